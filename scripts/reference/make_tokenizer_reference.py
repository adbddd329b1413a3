#!/usr/bin/env python3
"""Generate Tests/BatonModelTests/Fixtures/tokenizer_reference.json with
llama.cpp (via llama-cpp-python) as the tokenizer oracle.

For every case: ids = tokenize(text, add_bos=False, special=False),
ids_special = same with special=True, roundtrip = detokenize(ids) == text
(pieces from llama_token_to_piece with special=False, concatenated, decoded
as UTF-8 with errors="replace"; informational).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, detokenize, llama_cpp_version, model_path, sha256_file  # noqa: E402

HAND_WRITTEN = [
    # empty / single characters
    "", " ", "a", "A", "z", "0", "9", ".", ",", "!", "?", "\n", "\t", "\r", "\r\n", "é", "ß", "中", "😀", "\u00a0",
    # ASCII sentences
    "Hello world",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "the quick brown fox jumps over the lazy dog",
    "What is the capital of France?",
    "I think, therefore I am.",
    "To be, or not to be: that is the question.",
    "It was the best of times, it was the worst of times.",
    "Tokenizers split text into subword units called tokens.",
    "She sells sea shells by the sea shore.",
    "Baton is a Swift LLM inference engine.",
    "hello", " hello", "  hello", "   hello", "Hello", " Hello", "HELLO", "hELLO",
    "HelloWorld", "helloWorld", "hello_world", "hello-world", "hello.world", "hello/world",
    # contractions
    "it's", "don't", "they're", "we've", "I'm", "you'll", "he'd",
    "IT'S", "DON'T", "THEY'RE", "WE'VE", "I'M", "YOU'LL", "HE'D",
    "It'S", "Don'T", "I'm not sure it's what they've done, but we'll see what you'd say.",
    "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D",
    "rock'n'roll", "o'clock", "the dog's bone", "the dogs' bones", "''", "'''", "' s",
    "‘curly’ quotes", "“double curly”", "don’t",
    # numbers
    "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789012345",
    "3.14159", "2.71828182845", "1,000,000", "-42", "+42", "0.5", ".5", "5.", "1e10", "6.022e23",
    "0xDEADBEEF", "0b1010", "1/2", "50%", "$100", "€99.99", "£5", "¥1000",
    "+1 (555) 123-4567", "555-1234", "+33 1 23 45 67 89", "2024-01-15", "12:34:56", "v1.2.3",
    "In 1999, 42 people paid $3.50 each.", "Room 101", "a1b2c3", "abc123def456",
    # whitespace
    "  ", "   ", "    ", "        ", "\t\t", "\t \t", "\n\n", "\n\n\n", "\n\n\n\n\n", " \n", "\n ", " \n ",
    "\r\n\r\n", "hello\r\nworld", "hello\nworld", "hello\n\nworld", "hello\n\n\nworld",
    "hello  world", "hello   world", "hello    world", "hello\tworld", "hello\t\tworld",
    "trailing space ", "trailing spaces   ", "   leading spaces", " both ", "\tindented",
    "line1\nline2\nline3\n", "  \n  \n", "a \n b", "word\n", "\nword", "x\u3000y",
    # accents and Latin scripts
    "café", "naïve", "résumé", "façade", "Crème brûlée", "Ça va? Très bien, merci!",
    "L'été dernier, nous sommes allés à la plage.",
    "Où est la bibliothèque?",
    "Größe", "Straße", "Müller", "Ärger über Öl", "Die Brücke ist schön.", "Fußgängerübergänge",
    "Tiếng Việt", "Xin chào, tôi là người Việt Nam.", "Phở bò rất ngon.", "Hà Nội",
    "español: ¿Dónde está el baño? ¡Olé!", "português: não, ação, coração", "Dziękuję bardzo", "Český jazyk", "Ångström", "ﬁnance",
    # CJK
    "你好", "你好，世界！", "我爱北京天安门。", "中华人民共和国", "今天天气很好，我们去公园散步吧。",
    "こんにちは", "こんにちは世界", "日本語のテキストです。", "カタカナ", "ひらがな", "東京タワー",
    "안녕하세요", "한국어 텍스트입니다.", "서울특별시",
    "中文 English 混合 text", "Tokyo 東京 2024年",
    # emoji
    "😀😃😄", "🙂 hello 🙃", "👍", "👍🏻", "👍🏿", "👋🏽 hi", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "❤️", "❤",
    "🇫🇷", "🇺🇸🇬🇧🇯🇵", "🔥🔥🔥", "I ❤️ Swift 🚀", "🤖💬", "☺", "✅ done", "⭐️",
    # other scripts
    "مرحبا بالعالم", "السلام عليكم", "שלום עולם", "עברית", "नमस्ते दुनिया", "हिन्दी भाषा",
    "Привет, мир!", "Москва — столица России.", "Ёлка", "Γειά σου Κόσμε", "αβγδε ΑΒΓΔΕ",
    "สวัสดีครับ", "Բարեւ", "ქართული", "Türkçe ığüşöç", "বাংলা", "தமிழ்",
    "Mixed: hello мир 世界 عالم 🌍",
    # math / symbols
    "∑_{i=1}^{n} i = n(n+1)/2", "∀x ∈ ℝ, x² ≥ 0", "α + β = γ", "√2 ≈ 1.414", "∞", "≠ ≤ ≥ ± × ÷",
    "E = mc²", "∫₀¹ f(x) dx", "a^2 + b^2 = c^2", "x_1, x_2, ..., x_n", "→ ← ↑ ↓ ⇒",
    "© ® ™ § ¶ † ‡ • …", "°C", "½ ¼ ¾",
    # punctuation runs
    "...", "!!!", "???", "?!?!", "----", "====", "****", "____", "~~~", "###", "@@@", "$$$",
    "((()))", "[[[]]]", "{{{}}}", "<<<>>>", "!!!???...", ",,,", ";;;", ":::", "\"\"\"", "```",
    "Wait... what?!", "Hmm—really?", "a--b", "--flag", "-->", "<!--", "=>", "->", "::", "...and then",
    # code: Swift
    "func add(_ a: Int, _ b: Int) -> Int {\n    return a + b\n}",
    "let x: [String: Int] = [\"a\": 1]",
    "struct Point { var x: Double; var y: Double }",
    "guard let value = optional else { return nil }",
    "@MainActor final class ViewModel: ObservableObject {}",
    # code: Python
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)",
    "print(f\"Hello, {name}!\")",
    "for i in range(10):\n\tprint(i)",
    "lambda x: x ** 2",
    "if __name__ == \"__main__\":\n    main()",
    # code: C
    "#include <stdio.h>\n\nint main(void) {\n    printf(\"hello\\n\");\n    return 0;\n}\n",
    "int *p = &x; p->next = NULL;",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "x <<= 2; y >>= 3; z ^= 0xFF;",
    # code: JSON / HTML / misc
    "{\"name\": \"Baton\", \"version\": 1, \"tags\": [\"llm\", \"swift\"], \"ok\": true}",
    "[1, 2, 3]",
    "{\"a\":{\"b\":{\"c\":null}}}",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "<div id=\"main\">\n  <span>text</span>\n</div>",
    "&amp; &lt; &gt; &nbsp;",
    "SELECT * FROM users WHERE id = 42;",
    "git commit -m \"fix: tokenizer\"",
    "$ ls -la /usr/local/bin",
    "const f = (a, b) => a + b;",
    "    indented code line",
    "\t\tdouble tab indent",
    # URLs / emails / paths
    "https://www.example.com/path?query=1&x=y#frag",
    "http://localhost:8080/api/v1/models",
    "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
    "user@example.com", "first.last+tag@sub.domain.org",
    "/usr/local/lib/libfoo.so.1", "C:\\Windows\\System32", "~/.cache/baton/models",
    # markdown
    "# Heading\n\nSome **bold** and _italic_ text.",
    "## Subheading",
    "- item one\n- item two\n- item three",
    "1. first\n2. second\n3. third",
    "> quoted text",
    "`inline code`",
    "```swift\nprint(\"hi\")\n```",
    "[link](https://example.com)",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "***", "---\ntitle: x\n---",
    # special tokens in text
    "<|im_start|>user\nhi<|im_end|>\n",
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_start|><|im_end|>",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "hello<|endoftext|>world",
    "hello <|endoftext|> world",
    "text<|im_end|>",
    "<|im_start|>assistant",
    " <|im_start|> ",
    "<|im_start|>user\n<|im_end|>",
    "<|endoftext|><|endoftext|>",
    "<|im_start",
    "<|im_end|",
    "<|unknown|>",
    "<repo_name>baton<file_sep>main.swift",
    "<filename>README.md",
    "<jupyter_code>print(1)",
    # very long words
    "Supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "Donaudampfschifffahrtsgesellschaftskapitän",
    "antidisestablishmentarianism",
    "a" * 100,
    "ab" * 64,
    "x" * 257,
    "!" * 40,
    " " * 64,
    "\n" * 20,
    "1" * 30,
    "🙂" * 10,
    "中" * 20,
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    # misc tricky
    "The end.\n",
    "Mr. Smith went to Washington, D.C.",
    "e.g. i.e. etc.",
    "#hashtag @mention",
    "CamelCaseIdentifierName",
    "snake_case_identifier_name",
    "SCREAMING_SNAKE_CASE",
    "kebab-case-name",
    "\u200b zero width space",
    "soft\u00adhyphen",
    "combining e\u0301 accent",
    "tab\tseparated\tvalues",
    "a,b,c\n1,2,3",
    "\"quoted\"",
    "'single quoted'",
    "(parenthetical)",
    "ALL CAPS SENTENCE WITH 123 NUMBERS.",
]


def generated():
    out = []
    # every printable ASCII character alone and after a space
    for c in range(0x20, 0x7F):
        out.append(chr(c))
    for c in "abcXYZ09!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~":
        out.append(" " + c)
    # runs of spaces before a word, and newlines/spaces combos
    for n in range(1, 9):
        out.append(" " * n + "x")
        out.append("x" + " " * n)
        out.append("\n" * n + "x")
        out.append("a" + " " * n + "b")
    # digit groupings
    for n in range(1, 11):
        out.append("".join(str((i + 1) % 10) for i in range(n)))
    for n in [7, 42, 100, 999, 1000, 2023, 65536, 1000000]:
        out.append(f"The number is {n}.")
    # contractions x case
    for w in ["he", "she", "we", "they", "you", "I"]:
        for suf in ["'s", "'re", "'ve", "'ll", "'d", "'m"]:
            out.append(w + suf)
    for w in ["CAN", "WON", "IS"]:
        out.append(w + "'T")
    return out


def main():
    import llama_cpp

    path = model_path()
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)

    texts, seen = [], set()
    for t in HAND_WRITTEN + generated():
        if t not in seen:
            seen.add(t)
            texts.append(t)

    cases = []
    for text in texts:
        b = text.encode("utf-8")
        ids = llm.tokenize(b, add_bos=False, special=False)
        ids_special = llm.tokenize(b, add_bos=False, special=True)
        back = detokenize(llm, ids).decode("utf-8", errors="replace")
        cases.append({"text": text, "ids": ids, "ids_special": ids_special,
                      "roundtrip": back == text})

    doc = {
        "generator": "scripts/reference/make_tokenizer_reference.py",
        "llama_cpp_python": llama_cpp_version(),
        "model_sha256": sha256_file(path),
        "add_bos": False,
        "cases": cases,
    }
    os.makedirs(FIXTURES, exist_ok=True)
    out = os.path.join(FIXTURES, "tokenizer_reference.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_rt = sum(c["roundtrip"] for c in cases)
    print(f"wrote {out}: {len(cases)} cases, {n_rt} roundtrip", file=sys.stderr)


if __name__ == "__main__":
    main()
