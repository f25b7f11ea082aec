"""Run llama-cpp-python's OpenAI-compatible server with weight repacking off (see LlamaCppBackend)."""

from takeaway.extract.llm import weight_repacking

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    with weight_repacking(False):
        main()
