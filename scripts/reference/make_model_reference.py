#!/usr/bin/env python3
"""Generate Tests/BatonModelTests/Fixtures/model_reference.json with
llama.cpp (via llama-cpp-python) as the forward-pass oracle.

Per prompt: prompt ids, top-5 logits and stats of the last prompt position,
then greedy decoding (argmax, one token at a time) for up to 48 tokens,
stopping after an end-of-generation token (which is included in greedy_ids).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, detokenize, llama_cpp_version, model_path, sha256_file  # noqa: E402

N_GREEDY = 48
N_THREADS = 2

PLAIN_PROMPTS = [
    ("capital_france", "The capital of France is"),
    ("fibonacci_def", "def fibonacci(n):"),
    ("once_upon", "Once upon a time"),
    ("list_fruits", "Here is a list of fruits:\n1. Apple\n2. Banana\n3."),
    ("math_question", "Question: What is 12 + 7?\nAnswer:"),
    ("swift_func", "// Swift function that returns the sum of an array\nfunc sum(_ xs: [Int]) -> Int {"),
    ("photosynthesis", "Photosynthesis is the process by which"),
    ("json_obj", "{\"name\": \"Alice\", \"age\": 30, \"city\":"),
    ("french", "Bonjour, je m'appelle"),
    ("single_word", "Hello"),
]

CHAT_QUESTIONS = [
    ("chat_hi", "Hi!"),
    ("chat_capital", "What is the capital of France?"),
    ("chat_math", "What is 2+2?"),
    ("chat_haiku", "Write a haiku about the ocean."),
    ("chat_python", "Write a Python function that reverses a string."),
    ("chat_explain", "Explain gravity in one sentence."),
    ("chat_list", "List three primary colors."),
    ("chat_translate", "Translate 'good morning' into French."),
    ("chat_name", "What is your name?"),
    ("chat_swift", "What is Swift used for?"),
]

DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def chatml_manual(question):
    return (f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{question}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def render_chat(template, question):
    manual = chatml_manual(question)
    if template is None:
        return manual
    try:
        import jinja2
    except ImportError:
        print("jinja2 missing; using hard-coded ChatML", file=sys.stderr)
        return manual
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    out = env.from_string(template).render(
        messages=[{"role": "user", "content": question}], add_generation_prompt=True,
        bos_token="", eos_token="<|im_end|>")
    if out != manual:
        sys.exit(f"template rendering differs from hard-coded ChatML:\n{out!r}\n{manual!r}")
    return out


def last_logits(llm):
    return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)


def top_k(logits, k):
    # sort by logit descending, ties by ascending id
    order = np.lexsort((np.arange(len(logits)), -logits.astype(np.float64)))[:k]
    return [[int(i), float(logits[i])] for i in order]


def main():
    import llama_cpp

    path = model_path()
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_threads=N_THREADS,
                          n_threads_batch=N_THREADS, n_batch=512, logits_all=True,
                          seed=0, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    meta = llm.metadata
    template = meta.get("tokenizer.chat_template")
    n_vocab = llm.n_vocab()

    def is_eog(t):
        return bool(llama_cpp.llama_vocab_is_eog(vocab, t))

    prompts = [(n, p, False) for n, p in PLAIN_PROMPTS]
    prompts += [(n, render_chat(template, q), True) for n, q in CHAT_QUESTIONS]

    cases = []
    for name, prompt, special in prompts:
        ids = llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=special)
        llm.reset()
        llm.eval(ids)
        logits = last_logits(llm)
        assert logits.shape == (n_vocab,)
        top5 = top_k(logits, 5)
        stats = {"max": float(logits.max()),
                 "mean": float(logits.astype(np.float64).mean()),
                 "std": float(logits.astype(np.float64).std())}
        greedy, gaps, stopped = [], [], False
        cur = logits
        for _ in range(N_GREEDY):
            t2 = top_k(cur, 2)
            tok = t2[0][0]
            greedy.append(tok)
            gaps.append(t2[0][1] - t2[1][1])
            if is_eog(tok):
                stopped = True
                break
            llm.eval([tok])
            cur = last_logits(llm)
        text = detokenize(llm, greedy).decode("utf-8", errors="replace")
        cases.append({"name": name, "prompt": prompt, "special": special,
                      "prompt_ids": ids, "top5": top5, "logits_stats": stats,
                      "greedy_ids": greedy, "greedy_text": text, "top2_gaps": gaps,
                      "stopped_at_eog": stopped})
        print(f"{name}: {len(ids)} prompt tok, {len(greedy)} gen, min gap "
              f"{min(gaps):.4f}, eog={stopped}: {text!r}", file=sys.stderr)

    doc = {
        "generator": "scripts/reference/make_model_reference.py",
        "llama_cpp_python": llama_cpp_version(),
        "model_sha256": sha256_file(path),
        "n_threads": N_THREADS,
        "n_ctx": 1024,
        "n_batch": 512,
        "add_bos": add_bos,
        "eog_ids": [t for t in range(n_vocab) if is_eog(t)],
        "chat_template": template,
        "greedy_note": f"argmax (ties -> lowest id), up to {N_GREEDY} tokens; an end-of-generation "
                       "token is included as the last greedy id and stops decoding; greedy_text renders "
                       "pieces with special=False (so <|im_end|> is empty)",
        "cases": cases,
    }
    os.makedirs(FIXTURES, exist_ok=True)
    out = os.path.join(FIXTURES, "model_reference.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
