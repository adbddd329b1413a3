// dump all intermediate tensors of llama.cpp for a prompt via cb_eval
// usage: dumpllama MODEL.gguf DUMP_DIR [flash_attn 0|1]   (DUMP_DIR must exist)
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int counter = 0;
static FILE *idx;
static const char *dir;
static bool cb(struct ggml_tensor *t, bool ask, void *ud) {
    if (ask) return true;
    char fn[512];
    snprintf(fn, sizeof fn, "%s/%04d.bin", dir, counter);
    size_t nb = ggml_nbytes(t);
    void *buf = malloc(nb);
    ggml_backend_tensor_get(t, buf, 0, nb);
    FILE *f = fopen(fn, "wb"); fwrite(buf, 1, nb, f); fclose(f); free(buf);
    fprintf(idx, "%d\t%s\t%s\t%s\t%lld,%lld,%lld,%lld\t%zu,%zu,%zu,%zu\t%s\t%s\n", counter, t->name, ggml_type_name(t->type), ggml_op_desc(t),
        (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], t->nb[0], t->nb[1], t->nb[2], t->nb[3],
        t->src[0] ? t->src[0]->name : "-", t->src[1] ? t->src[1]->name : "-");
    counter++;
    return true;
}
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s MODEL.gguf DUMP_DIR [flash_attn]\n", argv[0]); return 2; }
    dir = argv[2];
    int fa = argc > 3 ? atoi(argv[3]) : 0;
    char path[512];
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024; cp.n_batch = 512; cp.n_ubatch = 512; cp.n_threads = 2; cp.n_threads_batch = 2;
    cp.flash_attn_type = fa ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.cb_eval = cb; cp.cb_eval_user_data = NULL;
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    idx = fopen(path, "w");
    if (!idx) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    struct llama_context *ctx = llama_init_from_model(m, cp);
    llama_token toks[5] = {504, 3575, 282, 4649, 314};
    struct llama_batch b = llama_batch_get_one(toks, 5);
    if (llama_decode(ctx, b)) { fprintf(stderr, "decode failed\n"); return 1; }
    float *lg = llama_get_logits_ith(ctx, -1);
    int ids[5] = {7042, 260, 4528, 1315, 5145};
    for (int i = 0; i < 5; i++) printf("%d %.6f\n", ids[i], lg[ids[i]]);
    snprintf(path, sizeof path, "%s/logits.bin", dir);
    FILE *f = fopen(path, "wb"); fwrite(lg, 4, llama_vocab_n_tokens(llama_model_get_vocab(m)), f); fclose(f);
    fclose(idx);
    printf("%s\n", llama_print_system_info());
    return 0;
}
