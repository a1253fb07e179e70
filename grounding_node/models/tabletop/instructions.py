"""A vision-language model's grounding instruction around a referring expression, taken off.

Engineers who have used VLMs type the prompts those models were trained on: "Please provide the bounding box
coordinate of the region this sentence describes: the red mug", "<ref>the red mug</ref>", "[refer] red mug",
"<grounding>the red mug", "Find and output the bounding box of the red mug", "Output JSON with the box of the
red mug, like {"bbox": [x1, y1, x2, y2]}", "Where is the red mug? Answer with [x1, y1, x2, y2].". Their
frame says how to answer, never which object: but it says "box" (a shape of this world) and carries
markup, quotes and coordinate templates. A blind set in that register (test/phrasings/blind_aq.tsv) reached
the model with "the box of the red mug" and "the object matches the description" in one line in three.

`strip_instruction` returns the referring expression of such a prompt, and any other text unchanged. Every
rule needs its whole frame (a request verb with "bounding box", a model's task token, an answer-format
sentence), so "the box left of the mug" and "the largest box of all" keep their box; the generator's own
wordings never contain one (test_tabletop_language.py checks their normalised text is unchanged).
"""

from __future__ import annotations

import re

# the expression's markup and task tokens: Shikra/Qwen-VL "<ref>", Qwen2.5-VL "<|object_ref_start|>",
# Kosmos-2 "<grounding>" and "<phrase>", MiniGPT-v2 "[refer]"/"[detection]", Florence-2's task tokens,
# "<image>" placeholders and location tokens ("<loc_512>", "<loc0512>", "<box>")
_MARKUP = re.compile(
    r"<\|?/?(?:ref|object_ref_start|object_ref_end|box_start|box_end|im_start|im_end|vision_start|vision_end|"
    r"image_pad|grounding|phrase|p|box|image|img|loc_?\d+|patch_index_\d+|delimiter_of_multi_objects|"
    r"caption_to_phrase_grounding|open_vocabulary_detection|referring_expression_segmentation|od|"
    r"region_to_segmentation|regional_caption|dense_region_caption)\|?>"
    r"|\[(?:refer|detection|grounding|vqa|identify|ref|det)\]", re.IGNORECASE)
# a coordinate or JSON template: "[x1, y1, x2, y2]", "[x_min, y_min, x_max, y_max]", "(x, y)",
# '{"bbox": [x1, y1, x2, y2]}', "<box>(x1,y1),(x2,y2)</box>" (a JSON record of the request itself, '{"text":
# "fetch the box"}', is no template)
_TEMPLATE = re.compile(
    r"\{+[^{}]*[\"']?\b(?:bbox|box|bbox_2d|point|points|coordinates)\b[\"']?\s*:\s*\[[^{}]*\}+|"
    r"\[\s*\[?\s*x_?(?:1|0|min|left)\b[^\]]*\]+\]?|"
    r"\(\s*x_?(?:1|0|min)?\s*,\s*y_?(?:1|0|min)?\b[^)]*\)(?:\s*,\s*\([^)]*\))?", re.IGNORECASE)
_BOX = r"(?:bounding[ -]box(?:es)?|b-?boxe?s?|(?:box|boxes)(?= coordinates?\b| for:)|(?:bounding[ -])?box coordinates?)"
# a sentence (or a trailing clause) that only says how to answer
_FORMAT_SENTENCE = re.compile(
    rf"(?:^|(?<=[.?!;:]))\s*(?:please )?(?:answer|respond|reply|output|return|give|format|provide|express|use|"
    rf"report|write)\b[^.?!;]*?(?:\b{_BOX}|\bcoordinates?\b|\bjson\b|\bformat\b|\bpixel\b|\bboxes\b|\bbox as\b|"
    rf"\ba list\b|\bits box\b|\btheir boxes\b|\[\s*x|\(\s*x|\{{)[^.?!;]*[.?!;]?\s*$", re.IGNORECASE)
# the verbs that ask for an answer's form
_ANSWER_VERB = r"(?:return|output|give(?: me)?|provide|report|draw|predict|list)"
# "... and return its bounding box as", "... and output their bounding boxes": a frame on its own
_FORMAT_CLAUSE = re.compile(
    rf",?\s*\b(?:and|then)\s+{_ANSWER_VERB}\s+(?:its|their|the|a|"
    rf"all)?\s*(?:{_BOX}|(?<=its )box(?:es)?|(?<=their )box(?:es)?)\b.*$", re.IGNORECASE)
# a last sentence that asks for boxes of what the question named: "Where are the cups? Give the boxes for each
# one." (a frame on its own; "Pick up the cups. Give the boxes to me." is no such sentence)
_BOXES_TAIL = re.compile(
    rf"(?<=[.?!])\s*(?:please )?{_ANSWER_VERB}\b[^.?!]*\b(?:{_BOX}|boxes for "
    rf"(?:each|every|all)|(?:its|their) box(?:es)?|coordinates|json)\b[^.?!]*[.?!]?\s*$", re.IGNORECASE)
_EXAMPLE_TAIL = re.compile(r",?\s*\b(?:like|e\.?g\.?|for example|such as|in the (?:format|form)(?: of)?|as)\s*[.:]?$",
                           re.IGNORECASE)
# the lead-in that asks for a box around what follows: a bounding box, box coordinates, "the box for:", or a
# box in JSON ("give me the box for the red cube" is left alone)
_LEAD = re.compile(
    rf"^\s*(?:please |kindly |can you |could you )?(?:(?:find|detect|locate|identify) and )?"
    rf"(?:output|give(?: me)?|return|provide|predict|draw|get(?: me)?|show(?: me)?|mark|generate|produce|"
    rf"find|detect)\s+(?:(?:a |the )?json (?:with|containing|of) (?:the |a |an |its |all )?(?:{_BOX}|box(?:es)?)|"
    rf"(?:the |a |an |its |all )?{_BOX})\s+(?:coordinates? )?(?:of|for|around|that (?:contains?|encloses?))\s*:?\s*"
    rf"(?:the region (?:of |that )?(?:this sentence describes\s*:?\s*)?)?", re.IGNORECASE)
_DESCRIBES = re.compile(
    r"^.*?\b(?:this|the following|the) (?:sentence|phrase|expression|description|text|caption) "
    r"(?:describes|refers to|mentions|denotes)\s*:\s*", re.IGNORECASE)
_MATCHES = re.compile(
    r"^\s*(?:which|what) (?:object|region|item|thing|box)(?: in the image)? (?:matches|fits|corresponds to|is "
    r"described by|best matches)(?: the (?:description|expression|phrase|query|caption|text))?\s*:?\s*",
    re.IGNORECASE)
_INSTANCE = re.compile(r"\b(?:for )?(every|each|all) (?:instances?|occurrences?) of\b", re.IGNORECASE)


def strip_instruction(text: str) -> str:
    """A grounding prompt -> its referring expression; any other text unchanged (see the module docstring)."""
    said = _MARKUP.sub(" ", text)
    framed = said != text or bool(_TEMPLATE.search(said))
    for pat in (_DESCRIBES, _MATCHES, _LEAD, _FORMAT_CLAUSE, _BOXES_TAIL):
        stripped = pat.sub("", said, count=1)
        framed |= stripped != said
        said = stripped
    if framed:   # only a prompt's own frame says how to answer: "give me the cup, then report" is a request
        for _ in range(3):   # "Locate the cup. Answer with a list. Use JSON.": each is a sentence of its own
            said = _FORMAT_SENTENCE.sub("", said.strip())
            said = _EXAMPLE_TAIL.sub("", _TEMPLATE.sub(" ", said).strip())
        said = re.sub(r"\s+(?:in|from) (?:the |this )?(?:image|picture|photo|frame)\b", "", said)
        said = _INSTANCE.sub(lambda m: m[1].lower(), said)
        said = said.replace('"', " ").replace("“", " ").replace("”", " ").replace("`", " ")
        said = re.sub(r"\s+", " ", said).strip(" :")
    return said if framed else text
