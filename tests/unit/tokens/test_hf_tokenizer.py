"""Hugging Face tokenizer folders are read with the tokenizers library alone, as transformers reads them."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import tokenizers
from tokenizers import models, pre_tokenizers, processors

from ftprep.errors import ConfigError
from ftprep.tokens.chat_template import count_chat_tokens
from ftprep.tokens.hf_tokenizer import load_hf_tokenizer

TEMPLATE = "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }} {{ m.content }}{{ eos_token }}{% endfor %}"
WORDS = ["[UNK]", "hello", "world", "user", "assistant", "hi", "there"]


def write_folder(folder: Path, config: dict[str, object] | None = None) -> Path:
    """A word-level tokenizer.json whose post-processor adds <s> (as Llama's does), and its tokenizer_config.json."""
    backend = tokenizers.Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.add_special_tokens(["<s>", "</s>", "<|im_start|>"])
    backend.add_tokens(["<tool_call>"])  # an added token that is not special, as in Qwen
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 7)])
    folder.mkdir(parents=True, exist_ok=True)
    backend.save(str(folder / "tokenizer.json"))
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_reads_template_and_named_special_tokens(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tok", {
        "chat_template": TEMPLATE,
        "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False},
        "eos_token": "</s>",
        "unk_token": None,
        "pad_token": "</s>",
    })
    tok = load_hf_tokenizer(folder)
    assert tok.chat_template == TEMPLATE
    assert tok.named_special_tokens == {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>"}
    assert tok.special_tokens == {"<s>": 7, "</s>": 8, "<|im_start|>": 9}
    assert tok.added_tokens == {"<s>": 7, "</s>": 8, "<|im_start|>": 9, "<tool_call>": 10}


def test_encode_parses_added_tokens_and_adds_no_bos(tmp_path: Path) -> None:
    tok = load_hf_tokenizer(write_folder(tmp_path / "tok"))
    assert tok.backend.encode("hello").ids == [7, 1]  # the post-processor would add <s>
    assert tok.encode("hello <|im_start|>world<tool_call>") == [1, 9, 2, 10]
    assert tok.count("hello there") == 2
    assert tok.encode_many(["hello", "world hi"]) == [[1], [2, 5]]


def test_count_chat_tokens_equals_transformers(tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    folder = write_folder(tmp_path / "tok", {"chat_template": TEMPLATE, "bos_token": "<s>", "eos_token": "</s>"})
    tok = load_hf_tokenizer(folder)
    reference = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token="<s>",
                                        eos_token="</s>", chat_template=TEMPLATE)
    messages = [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "hi there"}]
    expected = reference.apply_chat_template(messages, tokenize=True, return_dict=False)
    assert count_chat_tokens(tok, TEMPLATE, messages, **tok.named_special_tokens) == len(expected) == 11


def test_chat_template_files_win_over_the_config(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tok", {"chat_template": "from config"})
    (folder / "chat_template.jinja").write_text("from file", encoding="utf-8")
    (folder / "chat_templates").mkdir()
    (folder / "chat_templates" / "tool_use.jinja").write_text("with tools", encoding="utf-8")
    tok = load_hf_tokenizer(folder)
    assert tok.chat_templates == {"default": "from file", "tool_use": "with tools"}
    assert tok.template_for(None) == "from file"
    assert tok.template_for([{"type": "function"}]) == "with tools"


def test_a_list_of_named_templates_in_the_config(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tok", {"chat_template": [
        {"name": "default", "template": "plain"}, {"name": "rag", "template": "documents"}]})
    tok = load_hf_tokenizer(folder)
    assert tok.chat_templates == {"default": "plain", "rag": "documents"}
    assert tok.template_for([{"type": "function"}]) == "plain"


def test_a_folder_without_config_has_no_template(tmp_path: Path) -> None:
    tok = load_hf_tokenizer(write_folder(tmp_path / "tok"))
    assert tok.chat_template is None
    assert tok.named_special_tokens == {}


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder; pass a Hugging Face tokenizer folder"):
        load_hf_tokenizer(tmp_path / "missing")


def test_missing_tokenizer_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tokenizer\.json: missing; .*save_pretrained"):
        load_hf_tokenizer(tmp_path)


def test_malformed_tokenizer_json(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text('{"model": 3}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not a tokenizer\.json that the tokenizers library can read"):
        load_hf_tokenizer(tmp_path)


def test_invalid_config_json(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tok")
    (folder / "tokenizer_config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tokenizer_config\.json: not valid JSON"):
        load_hf_tokenizer(folder)


@pytest.mark.parametrize("value", [3, [{"name": "default"}], ["text"]])
def test_invalid_chat_template_entry(tmp_path: Path, value: object) -> None:
    folder = write_folder(tmp_path / "tok", {"chat_template": value})
    with pytest.raises(ConfigError, match="chat_template must be a string or a list"):
        load_hf_tokenizer(folder)


def test_config_that_is_not_an_object(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tok")
    (folder / "tokenizer_config.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load_hf_tokenizer(folder)


def test_a_folder_tokenizer_pickles_as_its_folder(tmp_path: Path) -> None:
    tok = load_hf_tokenizer(write_folder(tmp_path / "tok", {"chat_template": TEMPLATE, "eos_token": "</s>"}))
    data = pickle.dumps(tok)
    assert str(tmp_path / "tok").encode() in data
    copy = pickle.loads(data)
    assert copy.encode("hello <|im_start|>world") == [1, 9, 2]
    assert copy.chat_template == TEMPLATE
    assert copy.named_special_tokens == {"eos_token": "</s>"}
