"""Write a real-size (or smoke-size) checkpoint folder WITHOUT weights: config.json, generation_config.json,
tokenizer and processor files, so that the product's backends load it through their own `load()` path
(AutoProcessor / AutoConfig `from_pretrained` of the folder). The weights are made up by
`harness.random_weights()`, which stands in for the model class's `from_pretrained` (random init straight
on the device, in the run's dtype: no 6 GB write and read of random numbers).

Tokenizers cannot be downloaded, so they are built in memory like `test/tiny_models/` does, with the
real special tokens (ids differ; the model's vocab size is the real one). Florence-2 and Qwen get a small
byte-level BPE *trained* on answer-like text with the real pre-tokenizer rules, so that an answer costs
about as many decode steps as with the real tokenizer (Qwen: one token per digit, like the real one).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "test"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from configs import figures  # noqa: E402  (bench/gpu is on sys.path when the harness runs)

PHRASES = ["red mug", "blue cup", "green box", "yellow ball", "white bowl", "black plate", "red can",
           "green bottle"]

# Qwen2's pre-tokenizer split (digits one by one), as in its tokenizer.json
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
              r"\s*[\r\n]+|\s+(?!\S)|\s+")


def _train_bpe(corpus, vocab_size: int, specials, qwen_split: bool):
    """Byte-level BPE trained on `corpus`: (vocab dict, merges list of pairs); specials get the first ids."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    if qwen_split:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=list(specials), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def _answer_corpus(rng: random.Random, n: int = 400):
    words = sorted({w for p in PHRASES for w in p.split()} | {"object", "table", "left", "right", "the", "a"})
    out = []
    for _ in range(n):
        k = rng.randint(1, 8)
        labels = [" ".join(rng.sample(words, 2)) for _ in range(k)]
        boxes = ",\n".join('\t{"bbox_2d": [%d, %d, %d, %d], "label": "%s"}' % (
            rng.randint(0, 1280), rng.randint(0, 720), rng.randint(0, 1280), rng.randint(0, 720), lab)
            for lab in labels)
        out.append("```json\n[\n" + boxes + "\n]\n```")
        out.append(" ".join(labels))
    return out


# -- detectors ----------------------------------------------------------------------------------------

def build_grounding_dino(out: str, fig: dict) -> None:
    from transformers import BertConfig, GroundingDinoConfig, GroundingDinoProcessor, SwinConfig
    from tiny_models import grounding_dino as tiny

    tok = tiny._tokenizer()
    text = BertConfig(**dict(fig["text"], vocab_size=max(fig["text"]["vocab_size"], len(tok))),
                      pad_token_id=tok.pad_token_id)
    config = GroundingDinoConfig(backbone_config=SwinConfig(**fig["backbone"]), text_config=text, **fig["model"])
    config.save_pretrained(out)
    try:
        from transformers import GroundingDinoImageProcessorPil as ip_cls
    except ImportError:  # pragma: no cover
        from transformers import GroundingDinoImageProcessor as ip_cls
    GroundingDinoProcessor(image_processor=ip_cls(size=dict(fig["image"])), tokenizer=tok).save_pretrained(out)


def build_owlv2(out: str, fig: dict) -> None:
    from transformers import Owlv2Config, Owlv2Processor
    from tiny_models import owlv2 as tiny

    tok = tiny._clip_tokenizer()
    text = dict(fig["text"], pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                eos_token_id=tok.eos_token_id, vocab_size=max(fig["text"]["vocab_size"], len(tok)))
    Owlv2Config(text_config=text, vision_config=dict(fig["vision"]),
                projection_dim=fig["projection_dim"]).save_pretrained(out)
    size = fig["vision"]["image_size"]
    ip = tiny._pil_or_default("Owlv2ImageProcessorPil", "Owlv2ImageProcessor")(size={"height": size, "width": size})
    Owlv2Processor(image_processor=ip, tokenizer=tok).save_pretrained(out)


# -- generative families ------------------------------------------------------------------------------

def _generation_config(out: str, tok, **extra) -> None:
    from transformers import GenerationConfig

    GenerationConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                     do_sample=False, num_beams=1, **extra).save_pretrained(out)


def florence2_tokenizer():
    from tokenizers import AddedToken
    from transformers import BartTokenizer
    from tiny_models import florence2 as tiny

    rng = random.Random(0)
    corpus = PHRASES * 20 + [" ".join(rng.sample(PHRASES, 3)) for _ in range(200)]
    vocab, merges = _train_bpe(corpus, 600, ["<s>", "<pad>", "</s>", "<unk>"], qwen_split=False)
    vocab["<mask>"] = len(vocab)
    extra = tiny.TASK_MARKERS + tiny.LOC_TOKENS + tiny.OTHER_MARKERS
    tok = BartTokenizer(vocab=vocab, merges=merges, model_max_length=1024, extra_special_tokens=extra,
                        model_specific_special_tokens={"image_token": "<image>"})
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in extra], special_tokens=True)
    tok.add_tokens([AddedToken("<image>", special=True, normalized=False)], special_tokens=True)
    return tok


def build_florence2(out: str, fig: dict) -> None:
    from transformers import BartConfig, Florence2Config, Florence2Processor, Florence2VisionConfig
    from tiny_models import florence2 as tiny

    tok = florence2_tokenizer()
    size = int(fig["image"])
    stride = 1
    for s in fig["vision"]["patch_stride"]:
        stride *= s
    ip = tiny._image_processor()
    ip.size = {"height": size, "width": size}
    ip.crop_size = {"height": size, "width": size}
    ip.image_seq_length = (size // stride) ** 2 + 1
    processor = Florence2Processor(image_processor=ip, tokenizer=tok, post_processor_config=tiny.POST_PROCESSOR_CONFIG)
    text = BartConfig(**dict(fig["text"], vocab_size=max(fig["text"]["vocab_size"], len(tok))),
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      decoder_start_token_id=tok.eos_token_id, forced_eos_token_id=tok.eos_token_id,
                      scale_embedding=False, dropout=0.0, attention_dropout=0.0)
    Florence2Config(text_config=text, vision_config=Florence2VisionConfig(**fig["vision"], drop_path_rate=0.0),
                    image_token_id=tok.image_token_id).save_pretrained(out)
    processor.save_pretrained(out)
    _generation_config(out, tok, decoder_start_token_id=tok.eos_token_id)


def build_paligemma(out: str, fig: dict) -> None:
    from transformers import Gemma2Config, PaliGemmaConfig, PaliGemmaProcessor, SiglipVisionConfig
    from tiny_models import paligemma as tiny

    tok = tiny._tokenizer()
    size, patch = int(fig["image"]), int(fig["vision"]["patch_size"])
    ip = tiny._image_processor()
    ip.size = {"height": size, "width": size}
    ip.image_seq_length = (size // patch) ** 2
    processor = PaliGemmaProcessor(image_processor=ip, tokenizer=tok)
    vocab = max(fig["text"]["vocab_size"], len(tok))
    text = Gemma2Config(**dict(fig["text"], vocab_size=vocab), pad_token_id=tok.pad_token_id,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    vision = SiglipVisionConfig(**fig["vision"])
    PaliGemmaConfig(vision_config=vision, text_config=text, image_token_index=processor.image_token_id,
                    vocab_size=vocab, projection_dim=fig["projection_dim"], hidden_size=fig["projection_dim"],
                    pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                    eos_token_id=tok.eos_token_id).save_pretrained(out)
    processor.save_pretrained(out)
    _generation_config(out, tok)


def qwen_tokenizer():
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer
    from tiny_models import qwen as tiny

    from grounding_node.models.prompts import qwen_json_prompt

    rng = random.Random(0)
    corpus = _answer_corpus(rng) + [qwen_json_prompt(rng.sample(PHRASES, rng.randint(1, 8))) for _ in range(100)]
    corpus.append(tiny.CHAT_TEMPLATE_QWEN2.replace("{%", " ").replace("%}", " "))
    vocab, merges = _train_bpe(corpus, 1500, [], qwen_split=True)
    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None, bos_token=None, eos_token="<|im_end|>",
                         pad_token="<|endoftext|>", errors="replace", model_max_length=32768)
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in tiny.SPECIAL_TOKENS], special_tokens=True)
    tok.chat_template = tiny.CHAT_TEMPLATE_QWEN2
    return tok


def build_qwen2_5_vl(out: str, fig: dict) -> None:
    from transformers import GenerationConfig, Qwen2_5_VLConfig, Qwen2VLImageProcessor
    from tiny_models import qwen as tiny

    tok = qwen_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in tiny.SPECIAL_TOKENS}
    vocab = max(fig["text"]["vocab_size"], len(tok))
    text = dict(fig["text"], vocab_size=vocab, bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<|endoftext|>"])
    config = Qwen2_5_VLConfig(text_config=text, vision_config=dict(fig["vision"]),
                              image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                              vision_start_token_id=ids["<|vision_start|>"],
                              vision_end_token_id=ids["<|vision_end|>"],
                              tie_word_embeddings=fig.get("tie_word_embeddings", False))
    config.save_pretrained(out)
    GenerationConfig(bos_token_id=ids["<|endoftext|>"], eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
                     pad_token_id=ids["<|endoftext|>"], do_sample=False).save_pretrained(out)
    tok.save_pretrained(out)
    im = dict(fig["image"])
    Qwen2VLImageProcessor(min_pixels=im["min_pixels"], max_pixels=im["max_pixels"],
                          patch_size=im.get("patch_size", fig["vision"]["patch_size"]),
                          temporal_patch_size=im.get("temporal_patch_size", 2),
                          merge_size=im.get("merge_size", 2)).save_pretrained(out)
    pp_path = os.path.join(out, "preprocessor_config.json")
    with open(pp_path, encoding="utf-8") as f:
        pp = json.load(f)
    pp["processor_class"] = "Qwen2_5_VLProcessor"
    with open(pp_path, "w", encoding="utf-8") as f:
        json.dump(pp, f, indent=2)
    with open(os.path.join(out, "chat_template.json"), "w", encoding="utf-8") as f:
        json.dump({"chat_template": tiny.CHAT_TEMPLATE_QWEN2}, f, indent=2)


BUILDERS = {"grounding_dino": build_grounding_dino, "owlv2": build_owlv2, "florence2": build_florence2,
            "paligemma": build_paligemma, "qwen2_5_vl": build_qwen2_5_vl}


def build(name: str, out_dir, smoke: bool = False) -> str:
    """Write the weightless folder of model `name` (see configs.MODELS) into `out_dir`; returns its path."""
    from configs import MODELS

    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    BUILDERS[MODELS[name][0]](out, figures(name, smoke))
    return out
