"""Run llama-cpp-python's OpenAI-compatible server with weight repacking off (see LlamaCppBackend)."""

import llama_cpp
from llama_cpp import llama as llama_module

_defaults = llama_cpp.llama_model_default_params


def _params():
    params = _defaults()
    params.use_extra_bufts = False
    return params


llama_module.llama_cpp.llama_model_default_params = _params

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    main()
