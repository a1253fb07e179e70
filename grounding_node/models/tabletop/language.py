"""Everyday speech -> the tabletop model's wording, before the words are looked up.

People say "could you grab the cup on the far left, please", "the 2nd block from the left", "any ball
but the red one". The network was trained on a closed vocabulary, so a rule-based normaliser rewrites
the phrase first (the same function runs in training and inference, so both see one wording):

1. spelling: lower case, curly quotes, contractions ("that's" -> "that is", "isn't" -> "is not");
2. politeness and command verbs at either end ("please", "could you", "grab", "pick up", "give me",
   "thanks") are stripped: they never change the referent;
3. synonyms: shapes ("tin" -> can, "dice" -> cube), colours ("violet" -> purple), sizes ("huge" ->
   large), "one(s)"/"item(s)" -> thing(s);
4. several forms of each superlative ("furthest left", "on the far left", "left-most", "at the back",
   "closest to me"), ordinal ("2nd", "first from the left" -> leftmost, "from the left, the second ..."),
   relation ("on the left side of", "nearer than", "in back of") and negation ("not the red one",
   "anything but red", "other than the red one", "except the red one") map to one canonical form;
   Sides, front and back said as adjectives ("the right-hand cup", "the rear cube"), up and down in the
   picture ("topmost", "at the bottom of the image": a table seen from above has its far side at the
   top), colours after the noun ("the cup that's purple") and ordinals after it ("the ball second from
   the right") too; "next to X" and "in the middle" have no word in the model and are dropped whole;
5. words still unknown: a typo of a known word is corrected ("bleu" -> blue, "balck" -> black, "rde" ->
   red: `typo_distance` counts swapped letters and neighbouring keys as a typist makes them), anything else
   is dropped (an unknown adjective must not replace the phrase's meaning with one <unk>). Real words
   that are spelled close to a model word ("cyan" ~ can, "lift" ~ left, "here" ~ sphere: `NOT_TYPOS`)
   are dropped, not corrected, and nothing but a swapped pair is corrected into "not".

A planner's structured request (key-value records, function calls, query clauses, PDDL-like terms,
numbered plans: `records.py`) is read as such first. Clauses that set the scene before the request ("counting from
the left, lift the second mug", "looking at each cup, I want the one furthest left", "of the things
behind the box, I'd like the cup") and non-native comparisons ("more close to camera than", "most big")
are rewritten too. test/test_tabletop_language_blind.py holds all this to wordings written blind.
"""

from __future__ import annotations

import difflib
import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from grounding_node.models.tabletop.agent import agent_phrase
from grounding_node.models.tabletop.axes import plain_axes
from grounding_node.models.tabletop.canonical import (
    COLORS,
    GENERIC,
    NOUNS,
    ORDINALS,
    PLURALS,
    SIZES,
    SUPERLATIVES,
    canonical_words,
    knows_vocabulary,
)
from grounding_node.models.tabletop.comparisons import plain_comparison
from grounding_node.models.tabletop.definitional import definitional_phrase
from grounding_node.models.tabletop.destinations import strip_destination
from grounding_node.models.tabletop.discourse import single_request
from grounding_node.models.tabletop.foreign import english
from grounding_node.models.tabletop.instructions import strip_instruction
from grounding_node.models.tabletop.learner import nth_one_of, plain_learner_english
from grounding_node.models.tabletop.notation import plain_letters, read_notation
from grounding_node.models.tabletop.records import plan_phrase, structured_phrase, term_phrase
from grounding_node.models.tabletop.rejection import plain_rejection, rejection_unread
from grounding_node.models.tabletop.routes import route_phrase
from grounding_node.models.tabletop.verbose import plain_description

_COLORS = "|".join(COLORS)   # the word classes live in canonical.py
_SIZES = "|".join(SIZES)
# an attribute word a negation can be about
_ATTR = rf"(?:{_COLORS}|{_SIZES})"

# word-level synonyms (applied after the phrase rules)
SYNONYMS = {
    # shapes
    "dice": "cube", "die": "cube", "cubes": "cubes", "blocks": "blocks", "cuboid": "box", "cuboids": "boxes",
    "carton": "box", "cartons": "boxes", "tankard": "mug", "tankards": "mugs", "tinnie": "can", "tinnies": "cans",
    "bar": "brick", "bars": "bricks", "tin": "can", "tins": "cans", "canister": "can", "canisters": "cans",
    "tube": "cylinder", "tubes": "cylinders", "orb": "ball", "orbs": "balls", "globe": "ball", "globes": "balls",
    "marble": "ball", "marbles": "balls", "teacup": "cup", "teacups": "cups", "mugs": "mugs", "beaker": "cup",
    "rectangle": "box", "rectangles": "boxes", "crate": "box", "crates": "boxes", "slab": "brick", "slabs": "bricks",
    # generic nouns
    "one": "thing", "ones": "things", "item": "object", "items": "objects", "piece": "thing",
    "guy": "thing", "guys": "things", "fella": "thing", "fellas": "things", "fellow": "thing", "dude": "thing",
    "dudes": "things", "doodad": "thing", "thingy": "thing", "whatsit": "thing", "gizmo": "thing",
    "pieces": "things", "stuff": "things", "toy": "thing", "toys": "things", "anything": "thing",
    "something": "thing", "everything": "things", "article": "object", "articles": "objects", "obj": "object",
    # colours
    "violet": "purple", "lilac": "purple", "magenta": "purple", "lavender": "purple", "crimson": "red",
    "scarlet": "red", "maroon": "red", "reddish": "red", "navy": "blue", "bluish": "blue", "azure": "blue",
    "lime": "green", "greenish": "green", "olive": "green", "golden": "yellow", "gold": "yellow",
    "yellowish": "yellow", "amber": "orange", "orangey": "orange", "ivory": "white", "snow": "white",
    "emerald": "green", "cobalt": "blue", "lemon": "yellow", "mustard": "yellow", "tangerine": "orange",
    "mauve": "purple", "plum": "purple", "cream": "white", "ebony": "black", "jet": "black", "snowy": "white",
    "ruby": "red", "cherry": "red", "pumpkin": "orange", "aubergine": "purple", "eggplant": "purple",
    "dark": "", "light": "", "bright": "", "pale": "", "coloured": "", "colored": "", "painted": "",
    # sizes
    "huge": "large", "giant": "large", "massive": "large", "bigger": "large", "larger": "large",
    "chonky": "large", "chonkiest": "largest", "smol": "small", "smollest": "smallest",
    "mini": "small", "smaller": "small", "teeny": "tiny", "wee": "little", "minute": "tiny",
    "smallest": "smallest", "littlest": "smallest", "teeniest": "tiniest", "greatest": "largest",
    "tallest": "largest", "tall": "large", "shortest": "smallest", "short": "small", "tinier": "small",
    "littler": "small", "further": "farther", "petite": "small", "miniature": "small", "jumbo": "large",
    "oversized": "large", "biggish": "large", "smallish": "small", "largish": "large",
    "titchy": "small", "ginormous": "large", "hugest": "largest", "sizeable": "large", "sizable": "large",
    "diminutive": "small", "bitty": "small", "teensy": "tiny", "whopping": "large",
    # superlatives in one word
    "frontmost": "nearest", "foremost": "nearest", "backmost": "farthest", "rearmost": "farthest",
    # up/down in the picture: a table seen from above has the far side at the top of the image
    "topmost": "farthest", "uppermost": "farthest", "highest": "farthest", "bottommost": "nearest",
    "lowest": "nearest",
    # determiners
    "each": "every", "both": "all", "any": "the", "this": "the", "those": "the", "these": "the",
    "which": "that", "whichever": "that",
}

# leading command words / politeness, longest first (matched repeatedly at the start)
_LEAD = [
    r"hey", r"hi", r"ok(?:ay)?", r"robot", r"(?:ro)?bot", r"now", r"then", r"so", r"um+", r"uh+", r"well", r"please",
    r"kindly", r"just", r"quickly",
    r"you can(?= (?:pick|grab|take|get|give|bring|hand|fetch|lift|catch)\b)",
    # "wait a second, ...": no ordinal (it was refused as "a second the red cup")
    r"(?:wait|hang on|hold on|give me|just|one)(?: a| one)? (?:second|sec|moment|minute|mo)(?=\s*,|\s+(?:then|and|"
    r"now|please|i|grab|get|take|pick|the)\b)",
    r"carefully", r"also", r"and", r"yo", r"alright", r"arm",
    r"you(?: should| must| need to| have to)?", r"up",
    r"if you (?:would|could) be so (?:kind|good) as to",
    r"might i ask you to", r"may i ask you to", r"if it is not too much (?:bother|trouble)",
    r"if you (?:do )?not mind", r"gonnae", r"going to",
    r"be (?:a dear|a love|an angel|a sweetheart|a star)(?: and)?", r"do me a (?:favour|favor)(?: and)?",
    r"(?:would|do) you mind(?: (?:getting|grabbing|picking(?: up)?|passing(?: me)?|handing(?: me)?|fetching|"
    r"bringing(?: me)?|taking|gathering(?: up)?|collecting|lifting|moving))?",
    r"(?:step|task|goal|target|objective|instruction) ?\d*(?: is)?",
    r"the robot (?:is asked to|should|must|will|has to)",
    r"(?:gather|round|collect)(?: up)?", r"robot(?: one| two| 1| 2)?", r"copy", r"roger",
    r"(?:could|can|would|will|might) you(?: please| kindly| just)?(?: be so (?:kind|good) as to)?(?: go ahead and)?",
    r"(?:could|can|may) i (?:have|get)",
    # "can pick the mug or not?": a request asked with the subject dropped (blind set AW)
    r"can(?= (?:pick|take|grab|get|bring|give|fetch|hand|lift)\b)",
    # a request asked as what we may do: "can we get the red cup", "may I grab ...", "so we can take ..."
    r"do you think",
    r"(?:could|can|may|might|shall) (?:we|i)(?: please| just)? (?:have|get|take|grab|pick(?: up| out)?|fetch|lift|"
    r"select|choose|use|see)",
    r"(?:we|i) (?:can|could|should|may|might|shall)(?: please| just)? (?:have|get|take|grab|pick(?: up| out)?|fetch|"
    r"lift|select|choose|use)", r"go ahead and", r"i(?: would|'d| will|'ll)? (?:like|want|need)(?: you)?(?: to)?",  # noqa: E501
    r"i'd love(?: you)?(?: to)?", r"let's", r"let me (?:have|see)", r"you should", r"try to", r"help me",
    r"(?:give|hand|bring|pass|fetch|get|show|find|toss|throw) (?:me|us)",
    r"pick(?: up)?", r"pick (?:out|up)", r"grab", r"take", r"get", r"fetch", r"grasp", r"hold", r"lift",
    r"collect", r"retrieve", r"select", r"choose", r"touch", r"tap", r"point (?:to|at)", r"look at",
    r"move", r"push", r"find", r"locate", r"highlight", r"mark", r"detect", r"show", r"spot", r"identify",
    r"where(?:'s| is| are)", r"what about", r"how about", r"there(?:'s| is)", r"i mean", r"go for",
    r"reach for", r"grab me", r"get me", r"give", r"hand", r"bring", r"pass", r"fetch",
    r"(?:is|are) there", r"do you see", r"(?:can|could) you see",
    r"which (?:one|thing|object) is(?= (?:the|a|an)\b)",   # "which one is the red cup", not "which thing is left of"
    # discourse markers (blind set V): "Right so, ...", "Oh, hmm, ...", "basically", "like, ..."
    r"right(?=\s*,|\s+(?:so|then|now|well|ok(?:ay)?|basically|like|anyway)\b)", r"oh", r"basically",
    r"actually", r"anyways?", r"like(?=\s*,)", r"hey there", r"for the last time", r"i said", r"eh",
    # young users' vocatives, fillers and verbs (blind set AA): "bestie can u snag the ...", "ok tin man go get
    # the ..." ("tin" is a can to the synonyms), "ngl i want ..."
    r"bestie", r"bro", r"bruh", r"dude", r"fam", r"buddy", r"pal", r"homie", r"mate", r"chief", r"boss",
    r"tin man", r"my (?:guy|dude|man|friend|bot)", r"lol", r"ngl", r"lowkey", r"highkey", r"tbh", r"imo", r"fr",
    r"snag(?: me)?", r"nab(?: me)?", r"yoink", r"yeet", r"cop(?: me)?", r"hook me up with",
    # shop-floor and keyword input (blind sets AC, AD): "job 404: ...", "next pick: ...", "want. mug. ..."
    r"job(?: (?:no |number )?\d+)?", r"(?:next )?pick(?: list)?(?: \d+)?", r"want", r"need", r"confirm",
    # indirect requests (blind set AF): "I could really use ...", "I was kind of hoping to get my hands on ..."
    r"honestly", r"i (?:could|can) (?:really )?(?:use|do with)",
    r"i (?:was|am|'m) (?:kind of |sort of |really |just )?hoping (?:to (?:get|have|grab|use)(?: my hands on)?|for)",
    r"(?:i would|i'd) (?:rather|prefer to|prefer|sooner) (?:have|get|take)", r"(?:i would|i'd) (?:rather|prefer)",
    r"scan(?:ning)? (?:every|each|all(?: the)?) (?:quadrants?|rows?|columns?|parts? of the (?:image|picture))(?: and)?",
]
# "right now" is no side, unless "right" is the side a word before it takes ("the mug furthest right now"); nor
# are "right away" and "right over there" (the model read "the leftmost mug right away" with a stray "right")
_RIGHT_NOW = (r"(?<!the )(?<!most )(?<!far )(?<!furthest )(?<!farthest )(?<!further )(?<!farther )(?<!to )"
              r"\bright (?:now|away(?! from)|over (?:here|there))")
_TRAIL = [r"please", r"thanks", r"thank you", r"for me", r"now", _RIGHT_NOW, r"quickly", r"if you can",

          r"if you could", r"would you", r"(?:that )?(?:you|i|we) (?:can )?see",
          r"in (?:the|this) (?:scene|picture|image)",
          r"all of them", r"(?:each|every) one", r"(?:each|every) (?:last |single )?one of them", r"could you",
          r"will you", r"(?:can|could|would|will) you(?: please)?", r"ok(?:ay)?", r"there", r"over there",
          r"(?:from|off|on) (?:the )?table", r"up", r"of (?:them )?all",
          r"(?:(?:just|now|then|and|so) )?(?:pick|grab|take|get|fetch|lift)(?: (?:it|that|that one|that thing|this|"
          r"this one|them))?(?: up)?",
          r"over(?: and out)?", r"if it is no trouble(?: at all)?", r"if you do not mind", r"if possible",
          r"when you can", r"would (?:you|ya)", r"in (?:the )?(?:camera|view|frame)(?: (?:view|frame|image))?",
          r"cheers", r"mate", r"thx", r"ty", r"pls", r"plz", r"(?:can )?(?:take|grab|get)?(?: for me)? or not",
          r"(?:go )+go", r"chop chop", r"no cap", r"ggs?", r"please proceed",
          r"(?:that )?you (?:come to|come across|reach|get to|find|meet|encounter)",
          r"(?:pick|grab|take|get|collect|fetch) (?:them|those|these)(?: all)?(?: up)?", r"them all",
          r"thanks a (?:bunch|lot|million|ton|heap)", r"ta(?: very much)?", r"many thanks", r"much appreciated",
          r"how hard can (?:it|this|that) be", r"for the last time",
          r"lol", r"lmao", r"fr(?: fr)?", r"ngl", r"rn", r"tbh", r"bestie", r"bro", r"fam", r"bruh", r"asap",
          r"count (?:the )?(?:\w+ ){0,3}?\w+ only", r"confirm(?:ed)?", r"over and out",
          # what the speaker thinks of it (blind set AF): "... would be perfect right now", "... would do nicely"
          r"(?:would|will|should|could|might) (?:be|do|work|suit(?: me)?)(?: (?:absolutely |really |just |so )?"
          r"(?:perfect|great|ideal|nice|nicely|fine|good|lovely|best|brilliant|handy|helpful|right|wonderful|amazing))?"
          r"(?: for (?:me|us|her|him|them|this))?(?: right now| now| today)?",
          r"(?:is|would be) the one for (?:me|us|her|him|them)", r"should (?:come|go) first",
          r"right about now", r"(?:so )?i(?: would|'d) (?:love|like) to have (?:it|them|that one)(?: all)?",
          r"of all(?: of)? them"]
_LEAD_RE = re.compile(r"^(?:(?:" + "|".join(sorted(_LEAD, key=len, reverse=True)) + r")\b\s*,?\s*)+")
_TRAIL_RE = re.compile(r"(?:\s*,?\s*\b(?:" + "|".join(sorted(_TRAIL, key=len, reverse=True)) + r"))+\s*$")

_SIDE = r"(left|right)"
# "most" that is not the second half of a side word ("left most", "front most")
_NOT_A_SIDE = r"(?<!left )(?<!right )(?<!front )(?<!back )(?<!rear )(?<!top )(?<!bottom )"
# a request verb inside the phrase, after a leading clause ("counting from the left, lift the second mug")
_VERB = (r"(?:(?:pick(?: up| out)?|take|grab|get|lift|select|choose|fetch|find|give me|hand me|bring me|get me|"
         r"i (?:would like|want|need|mean)|i am after|we want|we need|"
         r"(?:can|could|would|will) you (?:please )?(?:pick(?: up)?|take|grab|get|lift|fetch|hand me|give me)) )")
_NOUNS_CONCRETE = ("cubes?|blocks?|box(?:es)?|bricks?|cans?|cylinders?|balls?|spheres?|mugs?|cups?|dice|tins?|tubes?|"
                   "objects?|items?")
_NOUNS = ("cubes?|blocks?|box(?:es)?|bricks?|cans?|cylinders?|balls?|spheres?|mugs?|cups?|objects?|things?|ones?|"
          "items?|dice|tins?|tubes?")
_SINGULAR = {"cubes": "cube", "blocks": "block", "boxes": "box", "bricks": "brick", "cans": "can",
             "cylinders": "cylinder", "balls": "ball", "spheres": "sphere", "mugs": "mug", "cups": "cup",
             "objects": "object", "things": "thing", "ones": "thing", "items": "object"}
# "the smaller of the two balls", "the left one of the cubes": a comparison inside a named group
_GROUP_SUPERLATIVE = {"smaller": "smallest", "littler": "smallest", "tinier": "tiniest", "bigger": "biggest",
                      "larger": "largest", "nearer": "nearest", "closer": "nearest", "farther": "farthest",
                      "further": "farthest", "left": "leftmost", "right": "rightmost"}
_SUPERLATIVES = ("smallest|tiniest|biggest|largest|nearest|closest|farthest|furthest|leftmost|rightmost")


_OPPOSITE = {"left": "right", "right": "left", "behind": "in front of", "in front of": "behind"}
_MOST = {"big": "biggest", "large": "largest", "small": "smallest", "little": "smallest", "tiny": "tiniest",
         "near": "nearest", "close": "closest", "far": "farthest"}
# a noun phrase as a request names one: "the large blue box", "a cup", "the thing"
_NP = rf"(?:the |a |an )?(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})"
_ALL_OTHERS = (rf"(?:(?:any|all|every)(?: (?:of )?the)? (?:other (?:(?:{_COLORS}|{_SIZES}) )*\w+|others?)|"
               r"the rest(?: of (?:them|the \w+))?|(?:everything|anything) else|the others?)\b")


def _inverted(m: "re.Match") -> str:
    """"the cup that the box is right of" -> "the cup left of the box": the anchor was said first."""
    rel = m.group(2)
    return f"{_OPPOSITE[rel]}{' of' if rel in ('left', 'right') else ''} {m.group(1)}"


def _group_superlative(m: "re.Match") -> str:
    word = _GROUP_SUPERLATIVE.get(m.group(1), m.group(1))
    return f"the {word} {m.group(2)}{_SINGULAR.get(m.group(3), m.group(3))}"   # "of the red cubes": a red cube
# (pattern, replacement) applied in order on the lower-cased, contraction-expanded phrase
_PLURAL_ALT = "|".join(PLURALS)
_ATTRS = rf"((?:(?:{_COLORS}|{_SIZES})(?:,? and|,)? )*(?:{_COLORS}|{_SIZES}))"


_EXCLUDED_JOIN_RE = re.compile(rf"(,? (?:n?or|and)(?: not| also not| neither)?| nor|,)(?: (?:the|a|an|any))? ({_ATTR})")


def _excluded_attributes(m: "re.Match") -> str:
    """"neither red nor blue" -> " that is not red or blue"; the match unchanged when a bare "and" or comma
    joins attributes of two classes ("not red and small" may mean "small and not red")."""
    first, said = m[1], _EXCLUDED_JOIN_RE.findall(m[2])
    same_class = SIZES if first in SIZES else COLORS
    if any(join.strip(" ,") in ("", "and") and attr not in same_class for join, attr in said):
        return m[0]
    return f" that is not {' or '.join([first] + [attr for _, attr in said])}"


def _attrs(said: str) -> str:
    """"small and red", "red, small" -> "small red": the size before the colour, as the generator says it."""
    words = [w for w in re.split(r"[ ,]+", said) if w and w != "and"]
    return " ".join(sorted(words, key=lambda w: w not in SIZES))


# The camera's picture as the frame of reference (blind set Z): what a remote operator watching the feed says
_FRAME = (r"(?:screen|image|picture|frame|feed|shot|monitor|display|video|viewer|view|viewfinder|"
          r"(?:camera|live|video) (?:view|feed|image|frame|picture|shot))")
_CLOCK = {"9": ("left of", "furthest to the left", "left"), "3": ("right of", "furthest to the right", "right"),
          "6": ("in front of", "closest to the camera", None), "12": ("behind", "furthest from the camera", None)}
_TABLE = r"(?:table|tabletop|table top|workspace|work area|surface|desk|bench)"
_FRAME_RULES: List[Tuple[str, str]] = [
    # clock-face directions on the picture (blind set AE: how blind and low-vision users are guided): 12 o'clock
    # is the top of the picture (far), 6 the bottom (near), 3 right, 9 left; a stated convention is dropped
    (r"\bwith (?:12|6|3|9) o ?'? ?clock (?:at|as|on|being|for) (?:the )?(?:top|bottom|left|right)(?: hand)?"
     r"(?: side| edge)?(?: of the (?:image|picture|frame|screen|view))?(?:,? (?:nearest|closest|farthest|furthest)"
     r"(?: from| to)? (?:you|me|the camera))?,?", ""),
    (r"\b(?:at|toward|towards|to|in the direction of) (12|6|3|9) o ?'? ?clock (?:from|of) ",
     lambda m: _CLOCK[m[1]][0] + " "),
    (r"\b(?:closest|nearest) to (12|6|3|9) o ?'? ?clock\b", lambda m: _CLOCK[m[1]][1]),
    (r"\b(?:furthest|farthest|most) (?:toward|towards|to) (12|6|3|9) o ?'? ?clock\b", lambda m: _CLOCK[m[1]][1]),
    (r"\bfrom the (3|9) o ?'? ?clock (?:side|end|edge)\b", lambda m: f"from the {_CLOCK[m[1]][2]}"),
    # "image-left", "screen right", "the viewer's left": the picture's sides, which are the model's
    (r"\b(?:image|screen|picture|frame|camera|monitor|display|viewer(?:'?s)?) (left|right)\b", r"\1"),
    # a table seen from above has its near side low in the picture: the foreground is near, the background and
    # the top of the frame far ("at the bottom of the image" is read further on)
    (r"\b(?:more|further|farther|closer) (?:in|into|toward|towards) the foreground than\b", "in front of"),
    (rf"\blower (?:down )?(?:in|on) the {_FRAME} than\b", "in front of"),
    (r"\b(?:more|further|farther|deeper) (?:in|into|toward|towards) the (?:background|distance) than\b", "behind"),
    (rf"\b(?:higher (?:up )?(?:in|on)|deeper (?:in|into)) the (?:{_FRAME}|scene) than\b", "behind"),
    (r"\b(?:the )?(?:most|furthest|farthest) (?:in|into|toward|towards) the foreground\b", "closest to the camera"),
    (r"\b(?:the )?(?:deepest|furthest|farthest|most) (?:in|into|toward|towards) the (?:background|distance)\b",
     "furthest from the camera"),
    (rf"\b(?:the )?deepest (?:in|into) the (?:{_FRAME}|scene)\b", "furthest from the camera"),
    (rf"\b(?:the )?lowest (?:down )?(?:in|on) the {_FRAME}\b", "closest to the camera"),
    (rf"\b(?:the )?highest (?:up )?(?:in|on) the {_FRAME}\b", "furthest from the camera"),
    # the table's own front and back (blind set AG: "lift the cube at the very back of the table"): the camera
    # looks from the front, so the front of the table is the near side
    (r"\b(?:(?:that is|located|placed|sitting|lying|standing) )?(?:at|in|on|along|by) the (?:very |far )?"
     rf"(?:front|near)(?: edge| end| side)? of the {_TABLE}\b", "closest to the camera"),
    (r"\b(?:(?:that is|located|placed|sitting|lying|standing) )?(?:at|in|on|along|by) the (?:very |far )?"
     rf"(?:back|rear|far)(?: edge| end| side)? of the {_TABLE}\b", "furthest from the camera"),
    # ... and "on the far / near side of the table", which notation.py has said as "on behind / in front of"
    (rf"\b(?:at|in|on|along|by) (?:the )?(behind|in front of) the {_TABLE}\b",
     lambda m: "furthest from the camera" if m[1] == "behind" else "closest to the camera"),
    (rf"\b(?:closest|nearest) to the bottom(?: edge| side)? of the {_FRAME}\b", "closest to the camera"),
    (rf"\b(?:closest|nearest) to the top(?: edge| side)? of the {_FRAME}\b", "furthest from the camera"),
    # a side of the picture is a side ("on the far right of the image", "the left edge of the frame")
    (rf"(?<=left)((?: hand)?(?: side| end| edge)?) of the {_FRAME}\b", r"\1"),
    (rf"(?<=right)((?: hand)?(?: side| end| edge)?) of the {_FRAME}\b", r"\1"),
    # between an object and an edge of the picture is on that side of it (blind set AE; "between" was dropped)
    (rf"\bbetween (the (?:\w+ ){{0,3}}?\w+) and the (left|right)(?: hand)?(?: edge| side| end)?(?: of the {_FRAME})?\b",
     r"\2 of \1"),
    (rf"\bbetween (the (?:\w+ ){{0,3}}?\w+) and the bottom(?: edge| side| end)?(?: of the {_FRAME})?\b",
     r"in front of \1"),
    (rf"\bbetween (the (?:\w+ ){{0,3}}?\w+) and the top(?: edge| side| end)?(?: of the {_FRAME})?\b", r"behind \1"),
    # "nearest the top edge of the image" is the farthest (it read as the nearest)
    (rf"\b(?:closest|nearest) (?:to )?the bottom(?: edge| side)?(?: of the {_FRAME})?\b", "closest to the camera"),
    (rf"\b(?:closest|nearest) (?:to )?the top(?: edge| side)?(?: of the {_FRAME})?\b", "furthest from the camera"),
    (r"\b(furthest|farthest) over (?=on |to )", r"\1 "),
    # where the picture is, or whose view it is, never says which object
    (rf"(?<!top )(?<!bottom )(?<!edge )(?<!side )(?<!corner )(?<!half )(?<!part )(?<!end )"
     rf"\b(?:that is |that are )?(?:(?:you|i|we) (?:can )?see )?(?:in|on|within|across|from) (?:the |my |your |this )?"
     rf"{_FRAME}\b(?! than)", ""),
    (r"\bas (?:the robot|the camera|you|it|i|we) (?:sees?|views?|shows?) (?:it|them|things|the table)\b", ""),
    (r"\bfrom (?:the )?(?:camera'?s|camera|robot'?s|robot|viewer'?s|your|my|our) (?:point of view|perspective|"
     r"viewpoint|view|side)\b", ""),
]
_FRAME_RULES_C = [(re.compile(p), r) for p, r in _FRAME_RULES]

_ORDINAL_AFTER = {1: "second", 2: "third", 3: "fourth"}
_ORDINAL_WORD = {"2nd": "second", "3rd": "third", "two": "second", "three": "third", "2": "second", "3": "third"}
# "skip the leftmost and take the next one", "starting on the left skip one mug and grab the next one" (blind
# sets Y, Z, AA): an ordinal told as skipping. The side comes from the skipped extreme, the starting side or
# the counting direction ("counting rightward" starts at the left); the noun from the skipped ones, the
# taken one or a scene named first ("check the mugs, skip ...").
_SKIP_RE = re.compile(
    rf"(?:\b(?:check|look at|see|find|consider|order|sort|line up) (?:all )?(?:the )?(?P<pre>(?:\w+ ){{0,2}}?"
    rf"(?:{_NOUNS})),? )?"
    r"(?:\b(?:starting|counting|going|working|beginning) (?:on|from|at) the (?P<side1>left|right)(?: hand)?"
    r"(?: side| end| edge)?,? )?"
    r"\bskip(?:ping)? (?:over |past )?(?:the )?(?:(?:very )?first )?(?P<n>one|two|1|2)? ?"
    r"(?:(?P<ext>left|right) ?most ?|(?:ones? )?(?:on|from|at) the (?P<side2>left|right),? )?"
    rf"(?P<noun>(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS}))?(?: (?:from|on|at) the (?P<side3>left|right))?,? ?"
    r"(?:and|then|,)(?: then)? "
    r"(?:take|grab|get|pick(?: up)?|select|choose|fetch|go for|give me|hand me|bring me) the (?:next|following)"
    rf"(?: (?P<noun2>(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})))?"
    r"(?: (?:to|on) (?:its|the) (?P<dir2>left|right))?"
    r"(?:,? (?:counting|going|moving|working|heading) (?P<dir>rightwards?|leftwards?|to the (?:right|left)|"
    r"left to right|right to left|from the (?:left|right)))?")


def _DIRECTION_AS_RELATION(direction: str) -> str:
    """A way to move from the anchor, in the picture -> the model's relation to it."""
    for side in ("left", "right"):
        if side in direction:
            return f"{side} of"
    return "in front of" if direction.startswith("down") else "behind"


def _skip_ordinal(m: "re.Match") -> str:
    # "... the next one to its right": counting rightward starts at the left
    side = m["ext"] or m["side1"] or m["side2"] or m["side3"] or (m["dir2"] and _OPPOSITE[m["dir2"]])
    if not side and m["dir"]:
        d = m["dir"]
        side = "left" if d.startswith("right") or d in ("to the right", "left to right", "from the left") else "right"
    if not side:
        return m[0]
    skipped = {"two": 2, "2": 2}.get(m["n"] or "", 1)
    named = [n for n in (m["noun"], m["noun2"], m["pre"]) if n and n.split()[-1] not in ("one", "ones")]
    noun = (named[0] if named else "thing").split()
    noun[-1] = _SINGULAR.get(noun[-1], noun[-1])
    return f"the {_ORDINAL_AFTER[skipped]} {' '.join(noun)} from the {side}"


def _not_but(m: re.Match) -> str:
    """"not the red cup but the blue one" -> "the blue cup": the object after "but", with the noun the rejected
    one named when the wanted one says only "one"."""
    noun = m[3] if m[3] not in ("one", "ones", "thing", "things") else (m[1] or m[3])
    return f"the {m[2]}{noun}"


_PHRASE_RULES: List[Tuple[str, str]] = [
    # "can't" after its subject is a modal verb, not the shape: "I can't see the red cup" read "can the red cup"
    (r"(?:(?<=\bi )|(?<=\byou )|(?<=\bwe )|(?<=\bthey )|(?<=\brobot )|(?<=\bwhy )|^)can not\b ?", ""),
    # "grab one of the balls", "either of the two mugs": one object of the group, not all of them (the plural
    # noun made it a plural request)
    (rf"^(?:any |just |only )?(?:one|either|any one|any) of (?:the |those |these )?(?:two |three |2 |3 )?"
     rf"((?:(?:{_ATTR}) )*)({_NOUNS_CONCRETE})\b", lambda m: f"the {m[1]}{_SINGULAR.get(m[2], m[2])}"),
    # "the red cube, not the box": the model negates no noun, and the "not" left "the red cube the box", two
    # objects; the one named first is the request
    (rf"(\b(?:{_NOUNS_CONCRETE})),\s*not (?:the |a |an )(?:{_NOUNS_CONCRETE})$", r"\1"),
    # "not red but green": a "but" after a "not" is contrastive, not "except" (the negation rules below read
    # "the cup that is not red but green" as "... that is not green": the one colour asked for, excluded)
    (rf"\b((?:that|which) is|is) not ({_ATTR}),? but ({_ATTR})\b", r"\1 \3"),
    (rf"^not (?:the |a |an )?(?:(?:{_ATTR}) )*({_NOUNS_CONCRETE}|ones?|things?)?,? but (?:the |a |an )?"
     rf"((?:(?:{_ATTR}) )+)({_NOUNS_CONCRETE}|ones?|things?)\b", _not_but),
    # "one" as a determiner before the object's own words: "the one green thing that's farthest left", "get one
    # red mug" (blind set AX); "the one on the left" keeps its "one"
    (rf"(?:\b(the|a|that|this) |^)one (?=(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS_CONCRETE}|things?|objects?)\b)",
     lambda m: f"{m[1] or 'the'} "),
    # a reason or a story before the request (blind set AF): "my dog likes big toys, so the biggest mug ...",
    # "i am lining things up and the leftmost cup ...": only what follows names the object
    (r"^(?:my|our|i|i am|i'm|we|we are|we're|the kids?|this)\b[^,;]*?,? so (?=(?:i|the|that|any|every|all)\b)", ""),
    (r"^(?:i am|i'm|we are|we're) \w+ing(?: \w+){0,4} and (?=the\b)", ""),
    # "the mug in position two from the left"
    (r"\b(?:in |at )?(?:position|place|slot|spot) (two|three|2|3|second|third) (?:counting )?from the (left|right)",
     lambda m: f"{_ORDINAL_WORD.get(m[1], m[1])} from the {m[2]}"),
    # "the cup right after the leftmost cup (going left to right)" is the second from that side
    (rf"\bthe ((?:\w+ ){{0,3}}?\w+) (?:right |just |immediately )after the (left|right)most (?:\w+ ){{0,3}}?"
     rf"(?:{_NOUNS})(?:,? (?:going|counting|moving) (?:from )?(?:left|right) to (?:the )?(?:left|right))?",
     r"the second \1 from the \2"),
    # "line the cups up by column from the left; pick the 2nd"
    (rf"^(?:line|order|sort|arrange|rank|count|number) (?:up )?(?:the |all (?:the )?)?((?:(?:{_COLORS}|{_SIZES}) )*)"
     rf"({_NOUNS})(?: up)?(?: by (?:column|position|row|place))? from the (left|right)(?: to (?:the )?(?:left|right))?"
     r"[,; ]+(?:(?:then )?(?:pick|take|grab|get|select|choose) )?(?:the |number )?(second|third|2nd|3rd)(?: one)?$",
     lambda m: f"the {_ORDINAL_WORD.get(m[4], m[4])} {m[1]}{_SINGULAR.get(m[2], m[2])} from the {m[3]}"),
    # directions from the anchor (blind sets AE, E): "start at the box, move toward the left edge of the screen;
    # the cup there", "from the box, move down the screen toward the camera; the cup there"
    (r"^(?:(?:start(?:ing)? )?(?:at|from)) (the (?:\w+ ){0,3}?\w+),? (?:then )?"
     r"(?:move|head|go|look|glance|travel|slide)(?: over)? "
     r"(?P<dir>(?:toward|towards|to) the (?:left|right)(?: hand)?(?: edge| side| end)?|down(?: the \w+)?"
     r"(?: toward| towards| to) the camera|up(?: the \w+)?(?: away from| further from) the camera)[,; ]+"
     r"(?:(?:i want|pick|take|grab|get) )?(the (?:\w+ ){0,3}?\w+)(?: there| that you reach| you reach)?$",
     lambda m: f"{m[3]} {_DIRECTION_AS_RELATION(m['dir'])} {m[1]}"),
    # "scanning rows from the bottom of the picture up, the first cup you hit": the nearest
    (rf"^scanning (?:rows |columns |the (?:picture|image|screen) )?from the (bottom|top|left|right)(?: edge| side)?"
     rf"(?: of the {_FRAME})?(?: up| down| across)?,? the first ((?:\w+ ){{0,3}}?(?:{_NOUNS}))"
     r"(?: (?:you|that you|we) (?:hit|see|find|reach|come to|meet))?$",
     lambda m: f"the {dict(bottom='nearest', top='farthest', left='leftmost', right='rightmost')[m[1]]} {m[2]}"),
    # "more to the left than every other mug": the leftmost
    (rf"\b(?:that is )?(?:more |further |farther )?(?:to the )?(left|right) (?:of|than) (?:every|each|all|any)"
     rf"(?: of the)? other (?:\w+ ){{0,3}}?(?:{_NOUNS})\b", r"furthest to the \1"),
    # "counting mugs from the left, the second one"
    (rf"^(?:counting|going through|looking at) (?:the )?((?:(?:{_COLORS}|{_SIZES}) )*)({_NOUNS}) from the (left|right)"
     r"(?: hand)?(?: side| end| edge)?[, ]+(?:(?:i want|pick|take|grab|get) )?(?:the |number )?(second|third|2nd|3rd)"
     r"(?: one)?$",
     lambda m: f"the {_ORDINAL_WORD.get(m[4], m[4])} {m[1]}{_SINGULAR.get(m[2], m[2])} from the {m[3]}"),
    # "skip the red one; i want the other mug, the one that's a different colour", "the small mug won't work, so
    # the mug that's a different size": the object not of that colour or size
    (rf"^(?:skip|not|ignore|leave|forget|no)?,? ?(?:the )?({_ATTR}) (?:one|thing|{_NOUNS})"
     r"(?: (?:will not|won't|does not|is not|is no) (?:work|do|good|right|fit)(?: for (?:me|us))?)?[,; ]+(?:so )?"
     r"(?:i want |give me |get me )?"
     rf"(?:the other |the |a )?({_NOUNS}|one|thing)(?:,? the one)? (?:that is |of |in |with )?(?:a |an |the )?"
     r"(?:different|other|another) (?:colou?r|size)$",
     lambda m: f"the {_SINGULAR.get(m[2], m[2]) if m[2] not in ('one', 'thing') else 'thing'} that is not {m[1]}"),
    # keyword input (blind set AD): "target mug, anchor box, target left of anchor"; either may be defined first,
    # and "anchor left of target" is the target right of the anchor
    (r"^(?:(?:the )?target,? )?(?P<t>(?:\w+ ){0,3}?\w+),? (?:the )?anchor,? (?P<a>(?:\w+ ){0,3}?\w+),? "
     r"(?:the )?target,? "
     r"(?:is )?(?P<r>(?:\w+ ){0,3}?\w+),? (?:the )?anchor$", r"the \g<t> \g<r> the \g<a>"),
    (r"^(?:the )?anchor,? (?P<a>(?:\w+ ){0,3}?\w+),? (?:the )?target,? (?P<t>(?:\w+ ){0,3}?\w+),? (?:the )?target,? "
     r"(?:is )?(?P<r>(?:\w+ ){0,3}?\w+),? (?:the )?anchor$", r"the \g<t> \g<r> the \g<a>"),
    # sides of another object seen from the camera (blind sets AC, AD): "on my side of", "on the camera side of",
    # "fwd of the box (camera side)", "aft of the box (away from camera)", "on the far side of"
    (r"\bon (?:my|our|the near|the camera s?|the camera's|camera|this) side of\b", "in front of"),
    (r"\bon (?:the far|the other|the back|the rear) side of\b", "behind"),
    (r"\b(?:fwd|forward|aft|back) of (the (?:\w+ ){0,3}?\w+),? (?:on the |the )?(?:camera|near) side\b",
     r"in front of \1"),
    (r"\b(?:fwd|forward|aft|back) of (the (?:\w+ ){0,3}?\w+),? (?:away from|far from) (?:the )?camera\b", r"behind \1"),
    (r"\b(?:furthest|farthest|most) (?:fwd|forward),? (?:on the |the )?camera side\b", "closest to the camera"),
    (r"\b(?:furthest|farthest) (?:out )?on the far side\b", "furthest from the camera"),
    (r"\bbeyond (?=the )", "behind "),
    (r"\bpast (the (?:\w+ ){0,3}?\w+),? (?:away from (?:me|us|the camera))\b", r"behind \1"),
    (r"\b(nearer|closer) (?:to )?camera than\b", r"\1 to the camera than"),
    (r"\b(farther|further) (?:away )?from camera than\b", r"\1 from the camera than"),
    (r"(?<!\bin )(?<!\bthe )(?<!\bat )(?<!\bto )\bfront of\b", "in front of"),
    (r"\boutermost ((?:\w+ ){0,3}?\w+) on the (left|right)(?: hand)?(?: side| end| edge)?\b", r"\2most \1"),
    # "the largest unit among the cups", "smallest one out of the red cubes": a superlative of a named group
    (rf"\b({_SUPERLATIVES}) (?:one|thing|unit|item|piece|part|sku)s? (?:among|amongst|of|out of) (?:all )?(?:the )?",
     r"\1 of the "),
    (rf"\b({_SUPERLATIVES}) (?:among|amongst|out of) (?:all )?(?:the )?", r"\1 of the "),
    # "want, mug, far left one": a side with no article
    (r"(?<!\bthe )(?<!\bon )\bfar (left|right)(?: one| thing)?(?=\s*(?:,|$))", r"furthest to the \1"),
    # "green things, counting from the left, second" (the ordinal last, with no noun)
    (rf"^(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*)({_NOUNS})[, ]+(?:counting |going |starting )?from the (left|right)"
     r"(?: side)?[, ]+"
     r"(?:the |number )?(second|third|2nd|3rd)(?: one)?$",
     lambda m: f"the {_ORDINAL_WORD.get(m[4], m[4])} {m[1]}{_SINGULAR.get(m[2], m[2])} from the {m[3]}"),
    # young users' superlatives (blind set AA): "the big boi of the bunch", "the lil baby of the group", "the
    # absolute unit of the cups", "the cup with the most size"
    (r"\bthe (big|large|small|little|tiny|smol|chonky) (?:one|thing|boi|boy|guy|baby|unit|fella|dude)s? of the\b",
     lambda m: f"the {_MOST.get(m[1]) or {'smol': 'smallest', 'chonky': 'largest'}[m[1]]} of the"),
    (r"\b(?:an? |the )?absolute (?:unit|beast|chonker|chonk|monster)\b", "the largest"),
    (r"\bwith the (?:most|greatest|biggest|largest|max(?:imum)?) (?:size|volume|bulk)\b", "that is the largest"),
    (r"\bwith the (?:least|smallest|min(?:imum)?) (?:size|volume|bulk)\b", "that is the smallest"),
    # blind set T: the anchor named first in a refusal, then the request on "its" side ("not the box! I want the
    # cup to its left"): "it" is the object refused
    (r"^not (?:the )?((?:\w+ ){0,3}?\w+), (?:(?:i (?:want|need|mean|said)|give me|grab|get|take) )?"
     r"(the (?:\w+ ){0,3}?\w+) (?:that is |which is )?(?:to |on )?its (left|right)(?: side)?\b", r"\2 \3 of the \1"),
    # blind set X: a bare noun first, then what picks it ("`mug` -- second one from the right", as a list or a
    # table cell writes it): the article the rules below expect
    (rf"^((?:{_ATTR} )*(?:{_NOUNS_CONCRETE}|things?))(?=,)", r"the \1"),
    # blind sets Q and R: "L of"/"R of" typed on a phone; technical writers' "whose distance to the camera is
    # less than that of the box" (a relation) and "... is the shortest" (an extreme: before, the size word
    # made it "the smallest"), "furthest toward the left", "identified as the largest", "coloured
    # differently from red"
    (r"\b(l|r) of\b", lambda m: "left of" if m[1] == "l" else "right of"),
    (r"\b(?:whose|with a|with the|with its|with) distance (?:to|from) (?:the |you )?(?:camera|you|me|robot)? ?"
     r"(?:is |being )?(?:less|smaller|shorter|lower) than (?:that of |the distance of )?(?:the )?",
     "closer than the "),
    (r"\b(?:whose|with a|with the|with its|with) distance (?:to|from) (?:the |you )?(?:camera|you|me|robot)? ?"
     r"(?:is |being )?(?:greater|larger|longer|bigger|higher|more) than (?:that of |the distance of )?(?:the )?",
     "farther than the "),
    (r"\b(?:whose|with a|with the|with its|with) distance (?:to|from) (?:the )?(?:camera|you|me|robot) "
     r"(?:is )?(?:the )?(?:shortest|smallest|least|lowest|minimal|minimum)\b", "closest to the camera"),
    (r"\b(?:whose|with a|with the|with its|with) distance (?:to|from) (?:the )?(?:camera|you|me|robot) "
     r"(?:is )?(?:the )?(?:greatest|largest|longest|biggest|highest|maximal|maximum)\b", "furthest from the camera"),
    (r"\btowards? (?=the (?:left|right|back|front|rear|camera)\b)", "to "),
    (r"\b(?:furthest|farthest|most) (?:to|at|in) the (?:back|rear)\b", "furthest from the camera"),
    (r"\b(?:furthest|farthest|most) (?:to|at|in) the front\b", "closest to the camera"),
    (r"\b(?:identified|recogni[sz]ed|described|known|classed|classified|marked|label+ed) as\b", "that is"),
    (r"\b(?:that is |which is )?(?:coloured|colored) (?:differently|otherwise) (?:from|than|to)\b", "that is not"),
    (r"\b(?:that is |which is )?(?:of )?a (?:different )?colou?r (?:other than|different from|besides)\b",
     "that is not"),
    # blind set N-P forms (hedged speakers, action verbs, formal English): "nearer to yourself than", "leftish of",
    # "most lefty", "the most big one", "teeny-tiniest", "that happens not to be red", "nudge the cup a little"
    (r"\b(?:yourself|myself|ourselves|yourselves)\b", "you"),
    (r"\b(left|right)(?:ish|y)\b", r"\1"),
    (_NOT_A_SIDE + r"\bmost (?:big|large|huge|sizeable|sizable|massive|giant|bulky)\b", "largest"),
    (_NOT_A_SIDE + r"\bmost (?:small|little|tiny|diminutive|teeny|wee|petite)\b", "smallest"),
    (r"\bteeny (?=tiniest\b)", ""), (r"\bmost in front\b", "closest to the camera"),
    (r"\b(?:happens?|chances?|seems?|appears?) not to be\b", "is not"),
    (r"\bnot (?:happen|seem|appear) to be\b", "is not"),
    (r",? (?:just )?a (?:little|bit|tad|touch)(?: bit)?$", ""),
    # "counting from the left-hand end, would you very kindly collect the second cup"
    (r"\bfrom the (left|right)(?: hand)? (?:end|side|edge)\b", r"from the \1"),
    (rf"^(?:counting|starting|going) from (?:the )?{_SIDE},? (?:[a-z']+ ){{0,6}}?(?:the )?(second|third) (.+)$",
     r"the \2 \3 from the \1"),
    # an exclamation before the request ("that one! the cube farthest left"), and a restatement that adds the
    # superlative or the negation ("that mug! the closest one!", "the cup... the not-small one, I mean")
    (r"^(?:that|this) (?:one|thing),? (?=(?:the|that|this) )", ""),
    (rf"^(?:the |that |this )?((?:{_ATTR} )*(?:{_NOUNS_CONCRETE}|things?)),? (?:the |that )(?:one |thing )?"
     r"(leftmost|rightmost|nearest|closest|farthest|furthest|largest|biggest|smallest|tiniest)(?: one| thing)?$",
     r"the \2 \1"),
    (rf"^(?:the |that |this )?((?:{_ATTR} )*(?:{_NOUNS_CONCRETE}|things?)),? the (?:not|non) ({_ATTR}) (?:one|thing)"
     r"(?:,? (?:i mean|i think|i guess))?$", r"the \1 that is not \2"),
    # "like" as a filler between commas ("the mug that's, like, the biggest one"), never the verb
    (r",? like,", ","), (r"\b(that is|which is), (?=the )", r"\1 "),
    # shapes said in two words
    (r"\b(?:flat|rectangular|oblong) (?:block|cube)(s?)\b", r"brick\1"), (r"\btin (cans?)\b", r"\1"),
    (r"\bdice (?:blocks?|cubes?)\b", "cube"), (r"\bking size[d]?\b", "large"), (r"\bitty bitty\b", "tiny"),
    (r"\bcylindrical (?:object|thing|one|item|shape)(s?)\b", r"cylinder\1"),
    (r"\bspherical (?:object|thing|one|item|shape)(s?)\b", r"sphere\1"),
    (r"\bcubic(?:al)? (?:object|thing|one|item|shape)(s?)\b", r"cube\1"),
    # "right at the front", "way at the back": an intensifier before a place
    (r"\b(?:right|just|way|all the way|directly|up) (?=(?:at|in|on) the (?:very )?(?:front|back|rear|top|bottom)\b)",
     ""),
    (r" ?\bin (?:size|colou?r)\b", ""), (r" ?\b(?:size|colou?r)[ -]?wise\b", ""),
    # non-native comparison: "more close to camera than", "most far", "most big"
    (r"\b(?:to|from) camera\b", lambda m: m.group(0).replace("camera", "the camera")),
    (r"\bmore (?:close|near)\b", "closer"), (r"\bmore (?:far|distant)\b", "farther"),
    (rf"{_NOT_A_SIDE}\bmost (?:close|near)\b", "nearest"), (rf"{_NOT_A_SIDE}\bmost far\b", "farthest"),
    (rf"{_NOT_A_SIDE}\bmost (?:big|large)\b", "biggest"),
    (rf"{_NOT_A_SIDE}\bmost (?:small|little|tiny)\b", "smallest"),
    # Other grammatical forms of the same relation, extreme or ordinal (blind set K): an inverted relation
    # reads as its opposite unless rewritten ("the cup that the box is right of" is LEFT of the box), and a
    # comparison with all the others is the superlative. "lens" is the camera; "less far" is closer.
    (r"\b(?:the )?lens\b", "the camera"), (r"\bless far from\b", "closer to"), (r"\bless far\b", "closer"),
    (r"\bleast far from\b", "closest to"), (r"\bleast far\b", "closest"),
    (r"\bleast (?:big|large)\b", "smallest"), (r"\bleast (?:small|little)\b", "largest"),
    (r"\b(?:of|with) (?:the )?least size\b", "smallest"), (r"\b(?:of|with) (?:the )?greatest size\b", "largest"),
    # ("of all" at the end is stripped before these rules run: a comparison left without its other side is
    # with all the others)
    (r"\bmore (?:at|to|on) (?:the )?(left|right)(?: side)?(?: of all)?$", r"furthest to the \1"),
    (r"\bmore (?:at|to|on) (?:the )?(left|right)(?: side)? than\b", r"\1 of"),
    (rf"(?:\bthe )?((?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})) more (big|large|small|little|near|close|far)$",
     lambda m: f"the {_MOST[m[2]]} {m[1]}"),
    (r"\bmore (big|large|small|little|tiny)(?: of all)?$", lambda m: _MOST[m[1]]),
    (r"\b(?:closer|nearer) (?:to )?(?:the )?camera(?: of all)?$", "closest to the camera"),
    (r"\b(?:farther|further) (?:away )?from (?:the )?camera(?: of all)?$", "furthest from the camera"),
    (r"\b(?:most|furthest|farthest) (?:front|forward)(?: side)?\b", "nearest"),
    (r"\bmost (?:back|behind|rear)(?: side)?\b", "farthest"),
    (r"\b(?:closer|nearer) (?:to (?:the camera|me|you) )?than " + _ALL_OTHERS,
     "closest to the camera"),
    (r"\b(?:farther|further) (?:away )?(?:from (?:the camera|me|you) )?than " + _ALL_OTHERS,
     "furthest from the camera"),
    (r"\b(?:farther|further|more) (left|right) than " + _ALL_OTHERS,
     r"furthest to the \1"),
    (r"\b(?:larger|bigger) than " + _ALL_OTHERS,
     "largest"),
    (r"\b(?:smaller|littler) than " + _ALL_OTHERS,
     "smallest"),
    (rf"\b(?:that |which )?no other {_NP} is (?:to the |on the )?(left|right) of\b", r"furthest to the \1"),
    (rf"\b(?:that |which )?no other {_NP} is in front of\b", "closest to the camera"),
    (rf"\b(?:that |which )?no other {_NP} is behind\b", "furthest from the camera"),
    (rf"\b(?:that |which )?no other {_NP} is (?:bigger|larger) than\b", "largest"),
    (rf"\b(?:that |which )?no other {_NP} is (?:smaller|littler) than\b", "smallest"),
    (rf"\bwith no other {_NP} (?:to|on) its (left|right)\b", r"furthest to the \1"),
    (rf"\bwith no other {_NP} in front of it\b", "closest to the camera"),
    (rf"\bwith no other {_NP} behind it\b", "furthest from the camera"),
    (r"\bwith exactly (?:one|1) other (?:.+?) (?:to|on) its (left|right)\b", r"second from the \1"),
    (r"\bwith exactly (?:two|2) other (?:.+?) (?:to|on) its (left|right)\b", r"third from the \1"),
    (r"\b(?:that|which) comes (second|third)(?: (?:going|counting|reading))? from (?:the )?(left|right)"
     r"(?: to (?:the )?(?:left|right))?\b", r"\1 from the \2"),
    (r"\bnext to (?:the )?(left|right) ?most\b (.+)$", r"second \2 from the \1"),
    # "the cup right of the leftmost cup" counts along one kind: an anchor of another kind ("the ball right of the
    # leftmost cup": balls at 1 and 2, the leftmost cup at 5; "the leftmost thing" may be a ball) or a target
    # narrower than it ("the red cup right of the leftmost cup") is no second from the left
    (rf"^(?:the )?(.+?) (?:just |immediately |directly )?(?:to the )?(right|left) of the (left|right) ?most "
     rf"((?:(?:{_ATTR}) )*(?:{_NOUNS}))$",
     lambda m: (f"the second {m[1]} from the {m[3]}" if m[2] != m[3] and (
         m[4] == "one" or " ".join(m[4].split()[:-1] + [_SINGULAR.get(m[4].split()[-1],
                                                                                  m[4].split()[-1])]) == m[1])
         else m[0])),
    (rf"\b(?:that|which) ({_NP}) is (?:to the |on the )?(left|right)(?: hand side)? of$", _inverted),
    (rf"\b(?:that|which) ({_NP}) is (behind|in front of)$", _inverted),
    (rf"\bwith ({_NP}) (?:on|to) its (left|right)(?: side)?\b", _inverted),
    (rf"\bwith ({_NP}) (behind|in front of) it\b", _inverted),
    (rf"\bwith ({_NP}) between it and the camera\b", r"behind \1"),
    (rf"\bbetween the camera and ({_NP})", r"in front of \1"),
    (rf"\bon the far side of ({_NP})(?:,? (?:away )?from the camera)?", r"behind \1"),
    (rf"\bon the near side of ({_NP})(?:,? (?:closer )?to the camera)?", r"in front of \1"),
    (rf"^({_NP}) has (?:a |an |the )?(.+?) (?:to|on) its (left|right)(?: side)?\b.*$", r"the \2 \3 of \1"),
    (rf"^({_NP}) has (?:a |an |the )?(.+?) (behind|in front of) it\b.*$", r"the \2 \3 \1"),
    (rf"^(?:on|at|to) (?:the )?(left|right)(?: hand)?(?: side)? of ({_NP}),? there (?:is|are) (.+)$", r"\3 \1 of \2"),
    (rf"^(in front of|behind) ({_NP}),? there (?:is|are) (.+)$", r"\3 \1 \2"),
    # annotators' image words (blind set L): below/above in the picture is nearer/farther on a table seen from
    # above (like "at the bottom of the image"); "under"/"beneath" stay stacking, which the model has no word for
    (rf"\bbelow ({_NP})", r"in front of \1"), (rf"\babove ({_NP})", r"behind \1"),
    (rf"\b(?:the )?(top|bottom) (?=(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b)",
     lambda m: "the farthest " if m[1] == "top" else "the nearest "),
    (r"\bin front from\b", "in front of"), (r"\b(?:at|on|in) (?:the )?front side of\b", "in front of"),
    (r"\b(?:at|on|in) (?:the )?back side of\b", "behind"),
    (rf"\b(?:of|with|in) (?:the )?colou?r (?:no|not|other than) ({_ATTR})\b", r"that is not \1"),
    (rf"\bwithout (?:the |any )?({_ATTR})(?: colou?r)?\b", r"that is not \1"),
    (rf"\bnot of (?:the )?({_ATTR})(?: size| colou?r)?\b", r"not \1"),
    # an annotator's "biggest one of the cubes" (no article) is "the biggest one of the cubes"
    (rf"^(?=(?:{_SUPERLATIVES}) (?:ones?|things?) of\b)", "the "),
    # an annotator's "not red thing" (no article): the noun is the object's, not the excluded one's
    (rf"^not ({_ATTR}) ({_NOUNS})$", lambda m: f"the {_SINGULAR.get(m[2], m[2])} that is not {m[1]}"),
    (rf"^(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})),? ({_SUPERLATIVES}) (?:one|thing)$", r"the \2 \1"),
    # "every (single) one of the cups" = all of them
    (r"\b(?:every|each)(?: single)? (?:one|thing) of\b", "all of"),
    # "of the things left of the box, i would like the cup": the topic is a relation, the head comes last
    (rf"^(?:out )?of (?:all )?the (?:things|objects|items|ones) (?!the |{_VERB})(.+?),? {_VERB}?"
     r"the ((?:(?!\bthe\b).)+)$", r"the \2 \1"),
    # "looking at each cup, i want the one furthest to the left": the group names the noun of "one"
    (rf"^(?:looking at|of|among|amongst|out of|from|considering|between|comparing) (?:all |each |every |the )*"
     rf"(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*)({_NOUNS}),? {_VERB}?(?:the )?(.*?\b(?:one|thing)\b.*)$",
     lambda m: "the " + re.sub(r"\b(?:one|thing)\b", m.group(1) + _SINGULAR.get(m.group(2), m.group(2)),
                               m.group(3), count=1)),
    # "out of all the mugs, give me the largest": the group names the noun of a bare superlative
    (rf"^(?:of|among|amongst|out of|from) (?:all )?(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*)({_NOUNS}),? "
     rf"(?:{_VERB}|go for )?(?:the )?({_SUPERLATIVES}|littlest)$",
     lambda m: f"the {m[3]} {m[1]}{_SINGULAR.get(m[2], m[2])}"),
    # "no, not the red cup; i want the cup of another colour"
    (rf"^(?:no,? )?not the ({_ATTR}) ({_NOUNS}),? {_VERB}?(?:the |a |an )?(?:{_NOUNS}|one|thing)? ?"
     rf"(?:of|in|with) (?:a |an |the )?(?:other|another|different) (?:colou?r|size)$", r"the \2 that is not \1"),
    # an ordinal after a clause that sets the direction: "going from left to right, pick the second cup",
    # "counting from the left, lift the second mug", "starting at the right end, take the third cup"
    (rf"^(?:(?:going|counting|starting|moving|reading|beginning|working|looking) )?(?:from|at) (?:the )?{_SIDE}"
     rf"(?: side| end| edge)?(?: to (?:the )?(?:left|right))?,? {_VERB}?(?:the )?(second|third) (.+)$",
     r"the \2 \3 from the \1"),
    # "the second mug in from the left"; "the mug with the greatest distance from the camera"
    (rf"\bin from (?:the )?{_SIDE}\b", r"from the \1"),
    (r"\b(?:with|at) (?:the )?(?:greatest|largest|biggest|longest|most|maximum|max) distance (?:from|to) "
     r"(?:the )?camera\b", "furthest from the camera"),
    (r"\b(?:with|at) (?:the )?(?:smallest|shortest|least|lowest|minimum|min) distance (?:from|to) (?:the )?camera\b",
     "closest to the camera"),
    # "which of the green things is nearest the camera?": the one, named by its group (before "which ... is"
    # below made it "the of the green things")
    (rf"^(?:which|what)(?: one)? of (?:all )?the ((?:(?:{_COLORS}|{_SIZES}) )*)({_PLURAL_ALT}) is (?=(?:the )?"
     r"(?:closest|nearest|farthest|furthest|biggest|largest|smallest|tiniest|leftmost|rightmost)\b)",
     lambda m: f"the {m[1]}{NOUNS[PLURALS.index(m[2])]} "),
    # "whichever mug is closest to the camera"
    (r"^(?:whichever|which ever|whatever|which) (.+?) is (?=(?:closest|nearest|farthest|furthest|biggest|largest|"
     r"smallest|tiniest|leftmost|rightmost)\b)", r"the \1 "),
    # "which cups are blue?", "are any of the cups blue?", "are there any blue cups?": every match; "which of
    # the cups is blue?": the one
    (rf"^(?:which|what) ({_PLURAL_ALT}) (?:are|is) {_ATTRS}$", lambda m: f"all the {_attrs(m[2])} {m[1]}"),
    (rf"^are (?:any|some|all) (?:of )?(?:the )?({_PLURAL_ALT}) {_ATTRS}$", lambda m: f"all the {_attrs(m[2])} {m[1]}"),
    (rf"^are there (?:any|some) {_ATTRS} ({_PLURAL_ALT})$", lambda m: f"all the {_attrs(m[1])} {m[2]}"),
    (rf"^(?:which|what) of the ({_PLURAL_ALT}) are {_ATTRS}$", lambda m: f"all the {_attrs(m[2])} {m[1]}"),
    (rf"^(?:which|what)(?: one)? of the ({_PLURAL_ALT}) is {_ATTRS}$",
     lambda m: f"the {_attrs(m[2])} {NOUNS[PLURALS.index(m[1])]}"),
    # "which ones are mugs": all of them
    (r"^(?:which|what) (?:ones|things|objects|items) (?:are|is) (.+)$", r"all the \1"),
    # "then" typed for "than" after a comparison; "right side from the box"
    (r"\b(closer|nearer|farther|further|more close|more far)((?: (?:to )?(?:the )?camera| back| away)?) then\b",
     r"\1\2 than"),
    (rf"\b(?:(?:at|on|to) )?(?:the )?{_SIDE}(?:[ -]hand)? side from\b", r"\1 of"),
    # "count one two three from the left and get me that mug"
    (rf"^count(?:ing)? (?:one two three|to three|three) (?:from|starting from|starting at) (?:the )?{_SIDE}"
     rf"(?: side)?,? (?:and )?{_VERB}?(?:that|the) (.+)$", r"the third \2 from the \1"),
    (rf"^count(?:ing)? (?:one two|to two|two) (?:from|starting from|starting at) (?:the )?{_SIDE}"
     rf"(?: side)?,? (?:and )?{_VERB}?(?:that|the) (.+)$", r"the second \2 from the \1"),
    # ordinals written with digits, and "first/last from the side" = the extreme
    (r"\bwhich\b", "that"), (r"\bwho\b", "that"),
    (r"\b1st\b", "first"), (r"\b2nd\b", "second"), (r"\b3rd\b", "third"),
    # terse planner text: "PICK cup #2 FROM LEFT", "cup at index 2 from the left (1-based)", "PICK cup LEFTOF box"
    (r"\b(?:at |in )?(?:index|position|rank|place|slot)(?: number| no)? (1|2|3)\b", r"\1"),
    (r"\b(?:1|one) based\b", ""),
    (r"\b(1|2|3) (?=(?:counting |starting )?from (?:the )?(?:left|right)\b)",
     lambda m: ("first ", "second ", "third ")[int(m.group(1)) - 1]),

    (r"\bnumber (?:2|two|second)\b", "second"), (r"\bnumber (?:3|three|third)\b", "third"),
    # "going left to right, pick the second cup" (no "from")
    (rf"^(?:going|counting|reading|working|moving) {_SIDE} to (?:the )?(?:left|right),? (?:please )?{_VERB}?(?:the )?"
     r"(second|third) (.+)$",
     r"the \2 \3 from the \1"),
    # "counting the red things from the right, take number two": the counted group is the noun
    (rf"^count(?:ing)? (?:all )?(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*)({_NOUNS}) from (?:the )?{_SIDE}(?: side)?,? "
     rf"(?:and )?{_VERB}?(?:the )?(second|third)(?: one| thing)?$",
     lambda m: f"the {m[4]} {m[1]}{_SINGULAR.get(m[2], m[2])} from the {m[3]}"),
    # "the second to last cube from the left" is the second from the right (so "last" is not dropped, which
    # left the second from the left); "penultimate", "next to last", "last but one" say the same
    *[(rf"\b(?:second(?: to| from)? last|next to last|penultimate|last but one) (.+?) (?:counting |starting |going )?"
       rf"(?:from|on|at) (?:the )?{side}(?: side| end| edge)?\b", rf"second \1 from the {other}")
      for side, other in (("left", "right"), ("right", "left"))],
    # "from the left, the second ball" / "counting from the left, the third cube"
    (rf"^(?:the )?(?:counting|starting|going)? ?from (?:the )?{_SIDE}(?: side)?,? (?:the )?(second|third) (.+)$",
     r"the \2 \3 from the \1"),
    (rf"^(?:the )?(first|second|third) from (?:the )?{_SIDE}(?: side)?,? (?:the )?(.+)$", r"the \1 \3 from the \2"),
    (r"^(second|third) (?!from\b)", r"the \1 "),   # "third cup from the right": the generator's article
    # "cube number two from left" (no article, the ordinal after the noun): the generator's order
    (rf"^((?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})) (?:that is |which is )?(first|second|third)(?: one| thing)? "
     rf"(?:counting |starting |going )?from (?:the )?{_SIDE}(?: side| end| edge)?$", r"the \2 \1 from the \3"),
    # "the second-leftmost cube", "the ball (that is) second from the right": the ordinal before the noun
    (rf"\b(second|third)[ -]{_SIDE}[ -]?most (.+)$", r"\1 \3 from the \2"),
    (rf"\bthe (.+?) (?:that is |which is )?(first|second|third)(?: one| thing)? (?:counting |starting |going )?from (?:the )?{_SIDE}(?: side| end| edge)?\b",  # noqa: E501
     r"the \2 \1 from the \3"),
    (rf"\b(second|third) (.+?) (?:counting |starting |going )?(?:from|on|at) (?:the )?{_SIDE}(?: side| end| edge)?\b",
     r"\1 \2 from the \3"),
    (rf"\b(second|third) (?:one |thing )?(?:counting |starting |going )?from (?:the )?{_SIDE}(?: side| end| edge)?(?:,? the)? (.+)$",  # noqa: E501
     r"\1 \3 from the \2"),
    (rf"\bfirst (.+?) (?:counting |starting |going )?(?:from|on|at) (?:the )?{_SIDE}(?: side| end| edge)?\b",
     r"\2most \1"),
    (rf"\bfirst (?:one |thing )?(?:counting |starting |going )?from (?:the )?{_SIDE}(?: side| end| edge)?(?:,? the)? (.+)$",  # noqa: E501
     r"\1most \2"),
    (rf"\blast (.+?) (?:on|at|to) (?:the )?{_SIDE}(?: side| end| edge)?\b", r"\2most \1"),
    # extremes: left/right ("most on left": a non-native superlative)
    (rf"\bmost (?:on|to|at) (?:the )?{_SIDE}\b", r"furthest to the \1"),
    (rf"\b{_SIDE} ?most\b", r"\1most"), (rf"\bmost {_SIDE}(?:ward)?\b", r"\1most"),
    # a side said as an adjective: "the right-hand cup", "the left red cube" (not "the left of ...")
    (rf"\bthe {_SIDE}[ -]hand(?: side)? (?!of\b|side\b)", r"the \1most "),
    (rf"\bthe {_SIDE} (?=(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b)", r"the \1most "),
    # "nearest the left edge" = furthest to the left
    (rf"\b(?:nearest|closest) (?:to )?the {_SIDE}(?: side| end| edge)?"
     r"(?: of the (?:image|picture|frame|view|table))?\b", r"furthest to the \1"),
    # up/down in the picture: the far side of a table is at the top of the image
    (r"\b(?:that is |located |placed |sitting |lying |standing )?(?:at|in|on|near) the (?:very )?top(?: of the (?:image|picture|frame|view|screen|table))?\b(?! of)",  # noqa: E501
     "furthest from the camera"),
    (r"\b(?:that is |located |placed |sitting |lying |standing )?(?:at|in|on|near) the (?:very )?bottom(?: of the (?:image|picture|frame|view|screen|table))?\b(?! of)",  # noqa: E501
     "closest to the camera"),
    (r"\btop ?most\b", "farthest"), (r"\bbottom ?most\b", "nearest"),
    (rf"\b(?:(?:that is|located|placed|sitting|lying|standing) )?(?:on|at|to|in) the (?:far|very|extreme) {_SIDE}(?: side| end| edge)?\b",  # noqa: E501
     r"furthest to the \1"),
    (rf"\b(?:at|on) the {_SIDE} (?:end|edge)\b", r"furthest to the \1"),
    (rf"\b(?:farthest|furthest|most|far|all the way) (?:to the |on the |over to the |towards the |over on the )?{_SIDE}\b",  # noqa: E501
     r"furthest to the \1"),
    # extremes: near/far (the camera is "me"/"you"/"the robot")
    (r"\b(?:closest|nearest) (?:to )?(?:me|you|us|the robot|the viewer|the camera|the front)\b", "closest to the camera"),  # noqa: E501
    (r"\b(?:farthest|furthest|most distant|most remote)(?: away)?(?: from)? (?:me|you|us|the robot|the viewer|the camera)\b",  # noqa: E501
     "furthest from the camera"),
    (r"\b(?:farthest|furthest) (?:away|back|behind)\b", "furthest from the camera"),
    (r"\b(nearest|closest) (\w+(?: \w+)?) to (?:me|you|us|the robot|the viewer|the camera)\b", r"nearest \2"),
    (r"\b(farthest|furthest) (\w+(?: \w+)?) (?:away )?from (?:me|you|us|the robot|the viewer|the camera)\b",
     r"farthest \2"),
    (r"\bthe closest\b", "the nearest"), (r"\bthe furthest\b", "the farthest"),
    (r"\bmost distant\b", "farthest"), (r"\bfront ?most\b", "nearest"), (r"\b(?:back|rear) ?most\b", "farthest"),
    (r"\b(?:that is |located |placed |sitting |standing )?(?:at|in) the (?:very )?(?:front|nearest end)(?! of)\b",
     "closest to the camera"),
    (r"\b(?:that is |located |placed |sitting |standing )?(?:at|in) the (?:very )?(?:back|rear)(?! of)\b",
     "furthest from the camera"),
    (r"\b(?:that is )?(?:the )?(?:furthest|farthest) to the (left|right)\b", r"furthest to the \1"),
    (r"\bthat is (?:the )?(?=(?:furthest|farthest|closest|nearest|leftmost|rightmost|largest|smallest|biggest|tiniest)\b)", ""),  # noqa: E501
    (rf"^(?:the )?((?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})) (leftmost|rightmost|largest|smallest|biggest|tiniest)$",
     r"the \2 \1"),
    # "the front ball", "the rear cube", "the one in front"
    (rf"\bthe (front|back|rear) (?=(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b)",
     lambda m: "the nearest " if m.group(1) == "front" else "the farthest "),
    (r"\b(?:that is )?in front$", "closest to the camera"),
    # a comparison inside a named group: "the smaller of the two balls", "the rightmost one of the cubes"
    # ("left"/"right" only with "one": "to the left of the balls" is a relation to a plural anchor)
    (rf"(?<!to )(?<!on )(?<!at )\bthe ((?:left|right)(?= ones?| things?)|"
     rf"{'|'.join(k for k in _GROUP_SUPERLATIVE if k not in ('left', 'right'))}|{_SUPERLATIVES})"
     rf"(?: ones?| things?)? of (?:all )?(?:the )?(?:two |2 |three |3 |several )?((?:(?:{_COLORS}|{_SIZES}) )*)"
     rf"({'|'.join(_SINGULAR)})\b",
     _group_superlative),
    # a superlative said as a predicate: "(which) cube is the biggest"
    (rf"^(?:the |that )?(.+?) (?:that )?is the ({_SUPERLATIVES})(?: one| thing)?$", r"the \2 \1"),
    # "which mug is the second one from the right"
    (rf"^(?:the |that )?(.+?) (?:that )?is (?:the )?(second|third)(?: one| thing)? from (?:the )?{_SIDE}$",
     r"the \2 \1 from the \3"),
    # ... or with no "is the": "the cube that's closest", "the mug furthest"
    (r"^(?:the |a )?(.+?) (?:that is )?(?:the )?(closest|nearest)$", r"the nearest \1"),
    (r"^(?:the |a )?(.+?) (?:that is )?(?:the )?(furthest|farthest)$", r"the farthest \1"),
    # the state verb of a relation: "the block that sits behind the can"
    (r"\bthat (?:is )?(?:sits|lies|stands|rests|sitting|lying|standing|resting|placed|located|positioned|found)\b",
     "that is"),
    # a colour or size after the noun: "the cup that's purple", "the cube in red", "the block, the red one"
    (rf"\bthe ({_NOUNS}) (?:that is |is |coloured |colored |painted |in )({_ATTR})$", r"the \2 \1"),
    (rf"^that ({_NOUNS}) is ({_ATTR})$", r"the \2 \1"),   # "which cup is blue? grab it" ("which" -> "that" above)
    (rf"\bthe ({_NOUNS}),? the ({_ATTR}) (?:ones?|things?)$", r"the \2 \1"),
    (rf"\bthe not ({_ATTR}) ", r"the non \1 "),
    # "on the left" with no "of" after it: the one furthest that way
    (rf"\b(?:that is |located |placed |sitting |standing )?on the {_SIDE}(?:[ -]hand)?(?: side)?$",
     r"furthest to the \1"),
    # an attribute after the noun: "everything blue", "all objects that are red"
    (rf"\b(?:everything|all (?:the )?(?:things|objects)) ({_ATTR})$", r"all \1 things"),
    (rf"\ball (?:the )?(objects|things) (?:that (?:is|are) )({_ATTR})$", r"all \2 \1"),
    (rf"^(?:all |every )?(?:of )?(?:the )?((?:{_NOUNS})s|boxes|dice) (?:that (?:is|are) )({_ATTR})$", r"all \2 \1"),
    # relations
    (rf"\b(?:(?:on|to|at) )?the {_SIDE}(?:[ -]hand)? side of\b", r"\1 of"),
    (rf"\bon the {_SIDE} of\b", r"\1 of"), (rf"\b{_SIDE}(?:wards?)? (?:of|from)\b", r"\1 of"),
    (rf"\bto the {_SIDE} of\b", r"\1 of"),
    (r"\b(?:nearer|closer)(?: to)?(?: (?:me|you|us|the camera|the robot|the viewer))? than\b", "closer than"),
    (r"\b(?:farther|further|more distant)(?: away| back)?(?: from)?(?: (?:me|you|us|the camera|the robot|the viewer))? than\b",  # noqa: E501
     "farther away than"),
    (r"\bfurther forward than\b", "closer than"),
    # an anchor said without its article ("left of large blue box"), as the generator never says it
    (rf"\b(left of|right of|in front of|behind|closer than|farther away than) "
     rf"(?=(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b)", r"\1 the "),
    # intensifiers before a relation: "right behind", "just left of", "directly in front of"
    (r"\b(?:right|just|directly|immediately|slightly|somewhat|a bit|a little) (?=(?:left|right|behind|in front|next|beside|closer|nearer|farther|further)\b)", ""),  # noqa: E501
    # near the camera = the nearest; "next to"/"beside"/"near" another object has no word in the model:
    # the anchor is dropped rather than left as stray words
    (r"\b(?:that is |located |placed |sitting |standing )?(?:near|close to|by) (?:me|you|us|the camera|the robot|the viewer)\b",  # noqa: E501
     "closest to the camera"),
    (rf"\b(?:that is |located |placed |sitting |lying |standing )?(?:next to|beside|besides|near|nearby|close to|by|alongside|touching) (?:the |a |an )?(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b", ""),  # noqa: E501
    # between two objects, and stacking ("on top of", "under", "inside"), have no word in the model either
    (rf"\b(?:that is |located |placed |sitting |lying |standing )?between (?:the |both )?(?:two )?"
     rf"(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})"
     rf"(?: and (?:the |a |an )?(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS}))?\b", ""),
    (rf"\b(?:that is |located |placed |sitting |lying |standing |stacked |resting )?(?:on top of|on|atop|under|"
     rf"underneath|beneath|inside|in|within) (?:the |a |an )?(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b", ""),
    # the middle has no word in the model: dropped
    (r"\b(?:that is |located |placed |sitting |standing )?(?:in|at) the (?:middle|center|centre)\b(?: of the (?:table|image|picture|scene))?", ""),  # noqa: E501
    (r"\b(?:middle|central|centre|center) ", ""),
    (r"\b(?:in back of|at the back of|beyond|back of|behind of)\b", "behind"),
    (r"\b(?:in front of|ahead of|at the front of|in the front of)\b", "in front of"),
    # "before" places only before an object ("the cup before the box"), never in "unclear before"
    (rf"\bbefore (?={_NP}\b)", "in front of "),
    # several excluded attributes: "neither red nor blue", "not red or blue", "other than the red and blue
    # ones", "not red and not blue" -> "that is not red or blue", which `read_phrase` grounds as one trained
    # phrase per attribute (`PhraseReading.all_of`); "and" or a comma joins only attributes of one class, so
    # "not red and small" stays as it was said
    (rf"(?:,\s*)?\b(?:(?:that|which|who) (?:is|are) |(?:is|are) )?(?:neither|not|anything but|but|other than|"
     rf"except(?: for)?|apart from|besides|but not|rather than|instead of) (?:the |a |an |any )?({_ATTR})"
     rf"((?:(?:,? (?:n?or|and)(?: not| also not| neither)?| nor|,)(?: (?:the|a|an|any))? {_ATTR})+)"
     rf"(?: ones?| things?)?\b", _excluded_attributes),
    # "the mug, and I don't mean a small one"
    (rf"(?:,\s*)?\b(?:and |but )?i (?:do )?not mean (?:a |an |the |any )({_ATTR})(?: ones?| things?)?\b",
     r" that is not \1"),
    # negation: "not the red one", "anything but red", "other than the red one", "except the red one"
    (rf"(?:,\s*)?\b(?:(?:that|which|who) (?:is|are) |(?:is|are) )?(?:not|anything but|but|other than|except(?: for)?|apart from|besides|but not|rather than|instead of) (?:the |a |an |any )?({_ATTR})(?: ones?| things?)?\b",  # noqa: E501
     r" that is not \1"),
    (rf"\b(?:that|which) is (?:a )?(?:different|another) (?:colou?r|size) (?:than|from|to) (?:the )?({_ATTR})(?: ones?)?\b",  # noqa: E501
     r"that is not \1"),
    (rf"\bnon ?-? ?({_ATTR})\b", r"non \1"),
    (rf"^non ({_ATTR}) ", r"the non \1 "),   # an annotator's "non-red cube": the article the model read it with
    # "the non-red, non-blue cube" -> "the cube that is not red or blue" (see above)
    (rf"\bnon ({_ATTR})((?:,? (?:and |or )?non {_ATTR})+) ((?:(?:{_ATTR}) )*(?:{_NOUNS}))\b",
     lambda m: f"{m[3]} that is not {m[1]} or {' or '.join(re.findall(_ATTR, m[2]))}"),
    (r"(\b(?:in front of|closer than)\b.+?),? (?:the (?:one|thing) |that is |which is )?(?:(?:closer|nearer) to "
     r"(?:the )?camera|closest to the camera)$", r"\1"),
    (r"(\b(?:behind|farther away than)\b.+?),? (?:the (?:one|thing) |that is |which is )?(?:(?:further|farther) "
     r"(?:back|away)(?: from (?:the )?camera)?|(?:further|farther) from (?:the )?camera|away from (?:the )?camera|"
     r"furthest from the camera)$", r"\1"),
    # a spoken restatement after the request: "the rightmost mug, grab the rightmost one", "that one!", "yeah
    # the right": the request already named its noun, so the tail adds nothing (an anchor never ends the phrase
    # this way: "left of the red one" keeps its anchor)
    # (nor a predicate: "the mug is the smallest one")
    (rf"^(.*\b(?:{_NOUNS_CONCRETE}|things?)\b.*?)(?<! of)(?<! than)(?<! behind)(?<! is)(?<! are),? "
     rf"(?:(?:yeah|yes|yep|i mean)\b.*|"
     rf"(?:(?:grab|pick|get|take|every) )?(?:(?:the|that|this|single) )+(?:(?:really|very) )?(?:[a-z]+ ){{0,2}}"
     rf"(?:one|thing)s?)$", r"\1"),
    # "the red one" style head nouns and plural heads
    (r"\bthe (?:ones|things) that are\b", "the things that is"),
    (r"\bthat are\b", "that is"), (r"\bare\b", "is"),
]
_PHRASE_RULES_C = [(re.compile(p), r) for p, r in _PHRASE_RULES]
_CONTRACTIONS = [(r"\bthat's\b", "that is"), (r"\bit's\b", "it is"), (r"\bwhat's\b", "what is"),
                 (r"\bwhich's\b", "which is"), (r"\bisn't\b", "is not"), (r"\baren't\b", "are not"),
                 (r"\bain't\b", "is not"), (r"\bwasn't\b", "is not"), (r"\bdon't\b", "do not"),
                 (r"\bdoesn't\b", "does not"), (r"\bi'm\b", "i am"), (r"\byou're\b", "you are"),
                 (r"\bthere's\b", "there is"), (r"\bwhere's\b", "where is"), (r"\blet's\b", "let us"),
                 (r"\bcan't\b", "can not"), (r"\bi'd\b", "i would"), (r"\bi'll\b", "i will"),
                 # speech-to-text and hurried typing drop the apostrophe
                 (r"\bthats\b", "that is"), (r"\bisnt\b", "is not"), (r"\barent\b", "are not"),
                 (r"\bdont\b", "do not"), (r"\bdoesnt\b", "does not"), (r"\btheres\b", "there is"),
                 (r"\bwheres\b", "where is"), (r"\bwhats\b", "what is"),
                 # texting
                 (r"\bu\b", "you"), (r"\bur\b", "your"), (r"\bpl[sz]\b", "please"), (r"\bthx\b", "thanks"),
                 (r"\bya\b", "you"), (r"\bgimme\b", "give me"), (r"\blemme\b", "let me"), (r"\blil\b", "little"),
                 # Scots and dropped g's: "fae the left", "tae the right", "could ye", "countin'", "in front o'"
                 (r"\bfae\b", "from"), (r"\btae\b", "to"), (r"\bye\b", "you"), (r"\b(\w+)in'(?!\w)", r"\1ing"),
                 (r"(?<!\w)o'(?!\w)", "of"), (r"(?<!\w)'em\b", "them"), (r"\bcam\b", "camera"),
                 (rf"\bthat is no (?=(?:{'|'.join(COLORS + SIZES)})\b)", "that is not "),
                 # "at the box's left" is left of the box (before the possessive below drops the "'s")
                 (rf"\b(?:at|on|to) ((?:the |a )?(?:(?:{'|'.join(COLORS + SIZES)}) )*(?:{_NOUNS}))'s (left|right)\b",
                  r"\2 of \1"),
                 # a possessive names its owner: "the mug's handle" is the mug ("mug's" was unknown)
                 (rf"\b({_NOUNS})'s\b", r"\1"),
                 # speech recognisers: homophones and split words around the slots ("the cup to the write of the
                 # box", "the mug thats knot red", "the near est ball", "the sec and cube"). "knot" and "closet"
                 # only where no other reading fits; "write"/"rite" never name anything on a table
                 (r"\b(?:write|rite|wright)\b", "right"), (r"\blef\b", "left"), (r"\bbe hind\b", "behind"),
                 (r"\bfronta\b", "front of"), (r"\binfront\b", "in front"), (r"\b(left|right)of\b", r"\1 of"),
                 (r"\bfrontof\b", "in front of"), (r"\binfrontof\b", "in front of"),
                 # shop-floor shorthand (blind set AC): left-/right-hand side, "LHS", "L/H"
                 (r"\b(?:lhs|l h s)\b", "left side"), (r"\b(?:rhs|r h s)\b", "right side"),
                 (r"\b(?:lh|l h)\b", "left"), (r"\b(?:rh|r h)\b", "right"),
                 (r"\bclosure\b(?= (?:to|than)\b)", "closer"),
                 (r"\bfather\b(?= (?:from|than|away|back)\b)", "farther"),
                 (r"\b(near|far|large|small|close|tini|tiny) est\b",
                  lambda m: {"far": "farthest", "tini": "tiniest", "tiny": "tiniest"}.get(m[1], m[1] + "est")),
                 (r"\bbig est\b", "biggest"),
                 (rf"\bthe (small|large|near|close) is (?=(?:(?:{'|'.join(COLORS + SIZES)}) )*(?:{_NOUNS})$)",
                  r"the \1est "),
                 (r"\bthe closet\b", "the closest"), (r"\bsec and\b", "second"),
                 (r"\bnumber (?:too|to)\b", "number two"),
                 (rf"\b(?:knot|naught|nought)\b(?= (?:the |a |an )?(?:{'|'.join(COLORS + SIZES)})\b)", "not"),
                 (r"\bis nt\b", "is not"), (r"\baint\b", "is not"),
                 # spelled by sound (blind set AM), where Metaphone's codes differ from the word's
                 (r"\bwun\b", "one"), (r"\buther\b", "other"), (r"\bexs?ept\b", "except"), (r"\bbehynd\b", "behind"),
                 (r"\bin ?frunt\b", "in front"),
                 (r"\bnott\b", "not")]
# "closer to the camera then the box": a comparison's "than" (after the sound-spellings are read: "neerer")
_THEN_RE = re.compile(r"\b((?:closer|nearer|farther|further|bigger|smaller|larger|more|less)(?: [a-z']+){0,5}?) then\b")
_CONTRACTIONS_C = [(re.compile(p), r) for p, r in _CONTRACTIONS]
# "the leftmost of the red cubes" left "the leftmost red cubes", a plural the generator never says after a
# superlative: the noun is made singular
_SUPERLATIVE_PLURAL_C = re.compile(
    rf"\b((?:the )?(?:leftmost|rightmost|nearest|farthest|largest|biggest|smallest|tiniest|second|third) )"
    rf"(?:of (?:all )?(?:the )?)?"
    rf"((?:(?:{'|'.join(COLORS + SIZES)}) )*)({'|'.join(sorted(_SINGULAR, key=len, reverse=True))})\b")
_PLURAL_NOUNS = {"cubes", "blocks", "boxes", "bricks", "cans", "cylinders", "balls", "spheres", "mugs", "cups",
                 "objects", "things"}
_SPATIAL = {"left", "right", "front", "behind", "second", "third", "leftmost", "rightmost", "nearest",
            "farthest", "closer", "farther", "closest", "furthest", "largest", "smallest", "biggest", "tiniest"}


def _clean(text: str) -> str:
    # NFKC: full-width "ＲＥＤ" (CJK keyboards) is red
    t = plain_letters(unicodedata.normalize("NFKC", text))
    t = t.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = re.sub(r"[.!?;:\u2014\u2013]+|\s-{1,2}\s", ",", t)   # a sentence end or a dash is a comma the rules see
    t = re.sub(r"[^\w\s\-',]", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return english(t)


# Words the phrase rules read (superlatives, sides, ordinals): a typo of one is corrected before the rules run,
# or "the furtherst" missed the rule that reads "the furthest" and was refused for want of a noun. Other typos
# are corrected after the rules (`_normalize_words_cached`), where the model's own vocabulary is known.
_RULE_WORDS = ("leftmost", "rightmost", "nearest", "farthest", "furthest", "closest", "largest", "biggest",
               "smallest", "tiniest", "left", "right", "behind", "front", "second", "third", "closer", "farther")


_TYPO_TARGETS = tuple(sorted(set(_RULE_WORDS + COLORS + SIZES + NOUNS + PLURALS + SUPERLATIVES + ORDINALS)))


def _spatial_typos(text: str) -> str:
    out = []
    for w in text.split(" "):
        core = w.strip(",")
        if core.isalpha() and core not in SYNONYMS and core not in _RULE_WORDS:
            fixed = _closest(core, _TYPO_TARGETS) or _sounds_like(core)   # a typist's slip first: "rde" is red
            if fixed in _RULE_WORDS or fixed in _PHONETIC_WORDS:   # "laarge" is large, not largest
                w = w.replace(core, fixed)
        out.append(w)
    return " ".join(out)


# Words spelled by sound ("ryte", "seckund", "thurd", "neerist", "camra", "frum"; blind set AM): a word that is
# not English and sounds like exactly one of these (Metaphone, `jellyfish`) is that word. Phonetic codes that
# two targets share are one meaning ("furthist": farthest or furthest). Without jellyfish installed (it is in
# requirements.txt) such spellings stay unread, as before.
_PHONETIC_WORDS = ("leftmost", "rightmost", "nearest", "farthest", "closest", "largest", "biggest", "smallest",
                   "tiniest", "littlest", "hugest", "left", "right", "behind", "front", "second", "third", "closer",
                   "farther", "nearer", "from", "than", "except", "other", "which", "camera", "away", "back",
                   "every", "most", "three", "first", "pick", "give", "table", "small", "large", "bigger", "smaller",
                   "larger")


@lru_cache(maxsize=1)
def _phonetic_table() -> Dict[str, str]:
    try:
        from jellyfish import metaphone
    except ImportError:
        return {}
    table: Dict[str, str] = {}
    for word in _PHONETIC_WORDS:   # first listed wins a shared code ("farthest" before "furthest")
        table.setdefault(metaphone(word), word)
    return table


def _sounds_like(word: str) -> str:
    """The rule word a non-English `word` sounds like, or ""."""
    if len(word) < 3 or word in NOT_TYPOS or word in english_words():
        return ""
    table = _phonetic_table()
    if not table:
        return ""
    from jellyfish import metaphone

    return table.get(metaphone(word), "")


# What people say around a request (blind set M): an apology, the day's task, the robot's next action on "it",
# what comes after. Only a leading clause with no word that could describe an object is dropped ("we're
# sorting things today, so ..."), and a trailing one that acts on "it"/"them" or says what happens next;
# before, "sorry, I was unclear before" became "in front of", "drop them in the crate" became "the box".
_CONTEXT_OPENER = re.compile(
    r"^(?:sorry|apologies|my bad|oops|we are|we're|we have|we've|i am|i'm|i have|i've|for (?:the|this|our|my|that)|"
    r"(?:ok(?:ay)?|right|alright|now|next|first|so)?,? ?for (?:this|the next|the|that) (?:next )?step|"
    r"right,? (?:so|then|now)|(?:great|good|nice) (?:job|work)|well done|this is the last one|thanks|thank you|"
    r"i (?:need|want|have|am going|would like) to \w+ (?:it|them)|"
    r"once you are (?:free|done|ready)|when you are (?:free|done|ready))\b")
_CONTENT_WORD = re.compile(rf"\b(?:{_COLORS}|{_SIZES}|cubes?|blocks?|box(?:es)?|bricks?|cans?|cylinders?|balls?|"
                           r"spheres?|mugs?|cups?|left|right|front|behind|nearest|farthest|closest|furthest|largest|"
                           r"smallest|biggest|second|third|leftmost|rightmost)\b")
_CONTEXT_TAIL = re.compile(
    r",?\s*\b(?:(?:and|then|and then|so|before you|after you)\s+)?(?:(?:place|put|drop|set|hold|hand|bring|give|toss|"
    r"move|carry|pass|show|lay|stick|throw|leave|store|stack|sort|weigh|check|scan|label|inspect|keep|lift|raise)"
    r"(?: up)?\s+"
    r"(?:it|them|that|those|this|these|that one|each one)\b|(?:then|and) (?:wait|stop|pause|come back|return|"
    r"we are done|we're done|we are finished)\b|(?:and )?after (?:that|this|which)\b|afterwards\b|"
    r"(?:this|that) (?:is|will be) the last one\b|(?:great|good|nice) (?:job|work)\b|don't drop it\b|"
    r"do not drop it\b|"
    # care and reassurance after the request: "..., and be careful with it", "you can't miss it", "it should be
    # easy to spot" ("can't" would read as the shape "can")
    r"(?:but |and )?(?:please )?be (?:careful|gentle)\b|you (?:can't|cannot|can not|cant|won't|will not|wont) "
    r"miss (?:it|them)\b|it (?:should|will|would) be (?:easy|simple|obvious)(?: enough)? to (?:spot|find|see)\b|"
    r"it(?:'s| is) (?:easy|simple) to (?:spot|find|see)\b|you should (?:be able to )?see (?:it|them)\b).*$")
# an aside that points back to the object already named: "the non-red mug (the one I mentioned)"
_ASIDE_RE = re.compile(r",?\s*\b(?:the one|the thing|which|that) (?:i|we) (?:mentioned|told you about|talked about|"
                       r"pointed out|asked (?:you )?(?:for|about))(?: (?:before|earlier|already|just now))?\b,?"
                       r"|\b(?:across|along) the (?:table|tabletop|workspace|bench)\b|\bcurrently\b|"
                       # "right now" is no side; nor are a plural's manners ("one at a time", "don't miss any")
                       rf"{_RIGHT_NOW}\b|\b(?:just now|from where you are)\b|,?\s*\bone at a time\b|"
                       r",?\s*\b(?:and )?(?:don't|do not|not) miss (?:any|one)(?: of them)?\b|"
                       # "all of the mugs - the ones just sitting on the table - ...": an aside between dashes
                       r",\s*the ones? (?:that are |that is |which are )?(?:just )?(?:sitting|lying|standing|resting)"
                       r"(?: there)? on the (?:table|tabletop)\s*(?=,)")


_GENERIC_WORD = re.compile(r"\b(?:objects?|things?|ones?|items?|everything|all|every)\b")
# a discourse marker said alone before the request: "right, so, the red cup" ("right" is not a side here)
_MARKERS = {"right", "ok", "okay", "alright", "so", "now", "well", "then", "next", "first", "and"}


def _without_context(text: str) -> str:
    text = re.sub(r"\s+", " ", _ASIDE_RE.sub(" ", text)).strip()
    clauses = [c.strip() for c in text.split(",")]
    while len(clauses) > 1 and clauses[0] in _MARKERS:
        clauses = clauses[1:]
    while len(clauses) > 1 and _CONTEXT_OPENER.match(clauses[0]) and not _CONTENT_WORD.search(
            re.sub(r"\bso\b.*$", "", clauses[0])):
        clauses = clauses[1:]
        # "..., so pick ...", "I'm not sure which, but the red cup": a "but" here is no "except" ("but the red
        # one" read as "that is not red": the one object asked for excluded)
        if clauses and re.match(r"^(?:so|but)\b", clauses[0]):
            clauses[0] = re.sub(r"^(?:so|but)\b", "", clauses[0]).strip()
    text = ", ".join(c for c in clauses if c)
    # "we're sorting things today so pick ..."
    text = re.sub(r"^(?:we are|we're|i am|i'm) [^,]*?\bso (?=\S)", "", text)
    tail = _CONTEXT_TAIL.search(text)
    if tail and (_CONTENT_WORD.search(text[:tail.start()]) or _GENERIC_WORD.search(text[:tail.start()])):
        # only after the request itself (which may name just "every object")
        text = text[:tail.start()]
    return text.strip(" ,")


# a second request about the same object, said without a full stop as a speech recogniser writes it: "i need
# the mug can you find it" (before repeated words are merged: "the red can can you find it" keeps its can)
_ASK_AGAIN_RE = re.compile(r"(?<=\w),?\s+(?:can|could|will|would) you (?:please )?(?:find|get|grab|see|spot|"
                           r"pick(?: up)?|fetch|locate|reach|bring|point (?:to|at)|show me)(?: me)? "
                           r"(?:it|that|that one|them|this)"
                           r"(?: for me)?(?: please)?\s*$")
_PURPOSE_RE = re.compile(r"(?<=\w),?\s+(?:so|so that|in order that) (?:i|we|you|they|he|she|it|someone|somebody|"
                         r"the (?:robot|arm|gripper|system|team|kids?|customer|operator|next station))(?: later)? "
                         r"(?:can|could|may|might|will|would)\b.*$|,?\s*\bin order to\b.*$")
# a spoken correction: after a comma, or (as a speech recogniser writes it, without one) a marker of two words
# that can only be a correction ("no sorry", "no wait": "no" or "sorry" alone may be something else)
_CORRECTION_RE = re.compile(
    r",\s*(?:no,? (?:sorry|wait|hang on|i mean)|sorry,? i mean|no wait|i mean|sorry|no|actually|"
    r"rather|correction)\s*,?\s+|"
    r"\s+(?:no,? (?:sorry|wait|hang on|no)|wait,? no|sorry,? i mean|i mean,? no|(?:uh|um|er),? no|oops|"
    r"scratch that|make that|i meant)\s*,?\s+")
_FRAGMENT = (r"(?:(?:to|on|at) the )?(?:left|right|write|rite|in front|behind|closer|nearer|farther|further|from the|"
             r"from (?:left|right)|counting|in back|before|ahead)\b")
_FRAGMENT_START = re.compile("^" + _FRAGMENT)
_FRAGMENT_START_ANYWHERE = re.compile(r"\b" + _FRAGMENT)


_CONTENT_RE = re.compile(rf"\b(?:{_COLORS}|{_SIZES}|{_NOUNS}|left|right|front|behind|back|closer|nearer|farther|"
                         rf"further|second|third|{_SUPERLATIVES}|largest|all|every|not)\b")
_EXPLANATION_RE = re.compile(r",?\s*\b(?:so )?(?:in other words|meaning|to be clear|that is to say|and by that i mean|"
                             r"i do mean|as in)\b.*$")


def self_correction(text: str) -> str:
    """"the mug right of, no sorry, left of the box" -> "the mug left of the box": the last correction wins.

    What follows the marker either names the object again ("pick the red mug, no, the mug that isn't
    red": it replaces everything) or repairs one fragment ("left of ..." replaces the last relation or
    direction said before it).
    """
    text = _EXPLANATION_RE.sub("", text)   # "..., in other words, <the same again>": said once is enough
    parts = _CORRECTION_RE.split(text)
    out = parts[0]
    for fix in parts[1:]:
        fix = fix.strip(" ,")
        if not _CONTENT_RE.search(fix):   # "..., no cap", "..., sorry": nothing to correct with
            continue
        if _FRAGMENT_START.match(fix):
            cut = [m.start() for m in _FRAGMENT_START_ANYWHERE.finditer(out)]
            anchor = re.search(r"\b(?:the|a|an) [\w ]*?\w(?=\s*,?\s*$)", out[cut[-1]:]) if cut else None
            if anchor:   # "... before the box, I mean in front of it": "it" is the box the fragment named
                fix = re.sub(r"\b(of|than|behind) (?:it|that one)$", rf"\1 {anchor[0]}", fix)
            out = (out[:cut[-1]] if cut else out + " ") + fix
        else:
            out = fix
    return out


_ZERO_BASE_RE = re.compile(r",? ?\b(?:(?:0|zero) (?:based|indexed)|(?:indexed|indexing|counting|numbered|starting) "
                           r"(?:from|at) (?:0|zero))\b,?")
_INDEX_RE = re.compile(r"\b((?:index|position|slot|rank|place)(?: number| no)? )?(\d+)\b"
                       r"(?=( (?:counting |starting )?from (?:the )?(?:left|right)\b)?)")


def _zero_based(t: str) -> str:
    """"index 2 from the left (zero-based)" -> "index 3 from the left": a stated zero base shifts each index
    by one, and an index 0 can only be zero-based ("cup[0] from left", "the zeroth cup"). Without this the base
    was dropped and index 2 read as the second (a wrong object)."""
    t, marked = _ZERO_BASE_RE.subn(" ", t)
    t = re.sub(r"\bzeroth\b", "first", t)

    def shift(m: re.Match) -> str:
        if not (m[1] or m[3]) or not (marked or m[2] == "0"):
            return m[0]
        return f"{m[1] or ''}{int(m[2]) + 1}"
    return re.sub(r"\s+", " ", _INDEX_RE.sub(shift, t)).strip()


_NOT_ANCHOR_RE = re.compile(
    r"(\b(?:of|behind)(?: the)? ((?:\w+ )*?\w+))\s*,?(?:\s*that is)?\s+not(?: the)? \2(?: itself)?\b")
_NOT_OTHER_RANK_RE = re.compile(r",\s*not(?: the)? (?:first|second|third|leftmost|rightmost|nearest|farthest|"
                                r"largest|smallest)(?: one)?$")


def _without_restatement(t: str) -> str:
    """Emphasis that says nothing new (blind set T): "the cup left of the box, not the box itself", "the
    second cup from the left, second!", "the third cup from the left, not the second". Each reached the model
    as a second request ("... that is not box", "... left second")."""
    t = _NOT_ANCHOR_RE.sub(r"\1", t)
    if re.search(r"\b(?:second|third|leftmost|rightmost|nearest|farthest|largest|smallest)\b",
                 _NOT_OTHER_RANK_RE.sub("", t)):
        t = _NOT_OTHER_RANK_RE.sub("", t)
    head, sep, last = t.rpartition(",")
    said = set(head.split())
    if sep and 0 < len(last.split()) <= 2 and set(last.split()) <= said and said & _SPATIAL:
        t = head
    return t.strip(" ,")


# Words a hashtag may run together (blind set AD: "#2ndfromleft", "#notred", "#infrontof"): the model's words
# and the rule words around them
_TAG_WORDS = frozenset(COLORS + SIZES + NOUNS + PLURALS + SUPERLATIVES + ORDINALS + GENERIC + _RULE_WORDS + (
    "1st", "2nd", "3rd", "first", "from", "the", "not", "non", "no", "in", "of", "to", "than", "all", "every",
    "most", "closest", "furthest", "nearest", "biggest", "largest", "smallest", "tiniest", "camera", "except",
    "but", "one", "ones", "near", "far", "front", "back", "big", "top", "bottom", "side"))
_HASHTAG_RE = re.compile(r"#([A-Za-z0-9]{4,40})\b")


def _tag_words(tag: str) -> "List[str] | None":
    """"2ndfromleft" -> ["2nd", "from", "left"], by the fewest known words; None when it is not all known words
    (a hashtag that is one word, or a name, is left to the notation reader)."""
    low = tag.lower()
    best: List["List[str] | None"] = [[]] + [None] * len(low)
    for end in range(1, len(low) + 1):
        for start in range(max(0, end - 9), end):
            if best[start] is not None and low[start:end] in _TAG_WORDS:
                cand = best[start] + [low[start:end]]
                if best[end] is None or len(cand) < len(best[end]):
                    best[end] = cand
    return best[-1] if best[-1] and len(best[-1]) > 1 else None


def _split_hashtags(text: str) -> str:
    if "#" not in text:
        return text
    return _HASHTAG_RE.sub(lambda m: " ".join(_tag_words(m[1]) or ["#" + m[1]]), text)


def normalize_phrase(text: str) -> str:
    """Everyday phrase -> canonical wording (a string; unknown words are kept here, see `normalize_words`)."""
    text = plain_axes(strip_instruction(text))   # "the mug with minimum x in the camera optical frame"
    text = plain_comparison(text)   # "the cup that every other cup is right of": before the definitional reader
    # definitions before notation: it reads "left to right" as counting
    text = read_notation(definitional_phrase(_split_hashtags(agent_phrase(text))))
    text = (structured_phrase(text) or term_phrase(text) or plan_phrase(text) or single_request(text)
            or text.replace("!=", " not "))
    t = self_correction(_clean(text))
    t = plain_rejection(t)   # "i don't want the red mug, give me the other one": the mug that is not red
    # before the context reader: it takes "and stop at the next mug" for an instruction after the request
    t = route_phrase(t)   # "start at the box and look left: the cup there": the cup left of the box
    # a purpose after the request ("pick up the cup so I can check it") says nothing about which object, and
    # its "can" is a shape word; nor do the context clauses around a request ("sorry, I was unclear before:
    # ...; place it on the tray")
    t = _PURPOSE_RE.sub("", t)
    t = _ASK_AGAIN_RE.sub("", t)
    t = _without_context(t)
    t = strip_destination(t)   # "push the mug to the left": where it goes is not which one it is
    t = plain_description(t)   # "the mug that occupies the leftmost positioning": the leftmost mug
    t = plain_learner_english(t)   # "box's left side's cup", "cups among, most left one": English word order
    # "do not"/"does not" never matter to a tabletop referent except as negation
    t = re.sub(r"\b(do|does) not\b", "not", t)
    t = re.sub(r"\bnot\b", " not ", t)
    t = re.sub(r"\s+", " ", t).strip()
    for pat, rep in _CONTRACTIONS_C:
        t = pat.sub(rep, t)
    t = re.sub(r"\s+", " ", t.replace("-", " ")).strip()
    t = _zero_based(t)
    t = nth_one_of(_THEN_RE.sub(r"\1 than", _spatial_typos(t)))
    for pat, rep in _FRAME_RULES_C:
        t = pat.sub(rep, t)
    t = _SKIP_RE.sub(_skip_ordinal, t)
    # speech: hesitations anywhere, and a word or two said twice ("the the", "behind the um behind the")
    t = re.sub(r"\s+", " ", re.sub(r"\b(?:um+|uh+|erm?|hmm+|ah+|lah|leh|lor|hor)\b,?", " ", t)).strip()
    t = re.sub(r"(?<!most )\b((?:\w+ ){0,2}\w+)(?: \1\b)+", r"\1", t)   # not "most small small ball"
    t = _LEAD_RE.sub("", t.strip(" ,"))
    t = _TRAIL_RE.sub("", t.strip(" ,")).strip(" ,")
    for pat, rep in _PHRASE_RULES_C:
        t = pat.sub(rep, t)
    t = _without_restatement(t)
    t = t.replace(",", " ")
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\b((?:\w+ ){1,3}\w+) \1\b", r"\1", t)   # "furthest from the camera furthest from the camera"
    t = _LEAD_RE.sub("", t)
    t = _TRAIL_RE.sub("", t).strip()
    t = re.sub(r"^(?:that|this|those|these) ", "the ", t)
    words = []
    for w in t.split():
        w = SYNONYMS.get(w, w)
        if w:
            words.extend(w.split())
    # "navy blue" -> "blue blue", "tin can" -> "can can": one word said twice is said once
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
    words = _SUPERLATIVE_PLURAL_C.sub(lambda m: m[1] + m[2] + _SINGULAR[m[3]], " ".join(words)).split()
    # a plural head without "all"/"every" ("grab the red cubes") is still a plural request
    if (words and not ({"all", "every"} & set(words)) and not (_SPATIAL & set(words))
            and any(w in _PLURAL_NOUNS for w in words)):
        words = ["all"] + words
    return " ".join(words)


# Real English words a spelling corrector would turn into a model word that changes the meaning ("back" ->
# black, "cyan" -> can, "lift" -> left, "here" -> sphere, "pink" -> pick): they are words, not typos, and
# are dropped like any other unknown word. Found by running the corrector over ~400 words of table-top
# commands (test_tabletop_language.py keeps the list honest).
NOT_TYPOS = frozenset(
    "back beige bring cyan lift might must none pink shall here thin hand kind fine what then there other "
    "others thank thanks nothing where when with this those these light dark grey gray brown silver teal tan "
    "sure mine line lone link sink bowl bottle".split())


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {c: (r, i + 0.5 * r) for r, row in enumerate(_KEYBOARD_ROWS) for i, c in enumerate(row)}


def _adjacent_keys(a: str, b: str) -> bool:
    """Neighbours on a QWERTY keyboard: the substitutions people actually type ("bos" for "box")."""
    if a not in _KEY_AT or b not in _KEY_AT:
        return False
    (ra, ca), (rb, cb) = _KEY_AT[a], _KEY_AT[b]
    return abs(ra - rb) <= 1 and abs(ca - cb) <= 1.0


def typo_distance(typed: str, word: str) -> float:
    """Damerau (optimal string alignment) distance with a typist's costs.

    Insertions, deletions and swapped neighbours cost 1; a substitution costs 1 when the keys are neighbours
    and 1.5 when not (a far substitution is more often another word than a typo: "hot" is not "not").
    """
    n, m = len(typed), len(word)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = float(i)
    for j in range(m + 1):
        d[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b = typed[i - 1], word[j - 1]
            sub = 0.0 if a == b else (1.0 if _adjacent_keys(a, b) else 1.5)
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + sub)
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[n][m]


# A correction into a negation word flips the question ("hot" -> not, "nor" -> not, "note" -> not): only a
# swapped pair ("nto", "ont") is corrected into one.
_NEGATIONS = frozenset({"not", "non"})
_NOUN_SET = frozenset(NOUNS + PLURALS)
_ATTR_SET = frozenset(COLORS + SIZES)


ENGLISH_WORDS = Path(__file__).resolve().parent / "data" / "english_words.txt.gz"


@lru_cache(maxsize=1)
def english_words() -> frozenset:
    """64k lower-case English words (SCOWL via Debian's wamerican, data/english_words.COPYRIGHT).

    Why: a real word is not a typo. Without this list the corrector turned hundreds of common words into
    model words that change the question ("three" -> the, "straight" -> right, "while" -> white, "range" ->
    orange, "tired" -> third, "brightest" -> rightmost); `NOT_TYPOS` had caught the few a tabletop command
    list showed. A word in the list is dropped like any unknown word.
    """
    with gzip.open(ENGLISH_WORDS, "rt", encoding="ascii") as f:
        return frozenset(f.read().split())


@lru_cache(maxsize=4096)
def _closest(word: str, vocab: Tuple[str, ...]) -> str:
    """The model word `word` is a typo of, or "" (dropped) when it is not one, or when two words fit equally.

    First the typist's distance (`typo_distance`): at most 1 for words of 3-4 letters (3 letters: no
    substitution, too many real words are one away), 1.5 for 5 letters, 2 for longer; the closest wins, ties
    go to the higher difflib ratio, and a tie left after that is dropped ("blck": black or block?). Words of
    4 letters and more the distance does not place fall back to difflib's ratio >= 0.75 ("qube" -> cube).
    """
    if len(word) < 3 or not word.isalpha() or word in NOT_TYPOS or word in english_words():
        return ""
    limit = 1.0 if len(word) <= 4 else 1.5 if len(word) == 5 else 2.0
    scored = []
    for v in vocab:
        if v.startswith("<") or abs(len(v) - len(word)) > limit:
            continue
        dist = typo_distance(word, v)
        if len(word) == 3 and dist > 0 and len(v) == 3 and sorted(v) != sorted(word):
            continue   # 3 letters: only a swap, or a letter missing/extra (different lengths)
        if dist <= limit and (v not in _NEGATIONS or sorted(v) == sorted(word)):
            scored.append((dist, -difflib.SequenceMatcher(None, word, v).ratio(), v))
    if scored:
        scored.sort()
        if len(scored) > 1 and scored[1][:2] == scored[0][:2]:
            return ""
        return scored[0][2]
    if len(word) < 4:
        return ""
    match = [m for m in difflib.get_close_matches(word, vocab, n=1, cutoff=0.75) if m not in _NEGATIONS]
    return match[0] if match else ""


# "not red or blue or green", as the phrase rules write several excluded attributes (`_excluded_attributes`)
_MORE_EXCLUDED_RE = re.compile(rf"\bnot ({_ATTR})((?: or {_ATTR})+)\b")


@lru_cache(maxsize=8192)
def _normalize_words_cached(text: str, vocab: Tuple[str, ...]) -> Tuple[str, ...]:
    known = set(vocab)
    out = []
    # the model reads one excluded attribute: the others are grounded as phrases of their own (`read_phrase`)
    for w in _MORE_EXCLUDED_RE.sub(r"not \1", normalize_phrase(text)).split():
        if w not in known:
            w = _closest(w, vocab)
        if w and w in known and not w.startswith("<"):
            out.append(w)
    # a negation whose attribute was dropped ("the mug that is not pink": no pink in the model's world) says
    # nothing: a dangling "not" would reach the network as a question it never saw
    while out and out[-1] in _NEGATIONS:
        out = out[:-1]
        while out and out[-1] in ("that", "is", "isn't"):
            out = out[:-1]
    # so does a "not" before anything but an attribute ("not the pink mug" -> "not the mug"): the model only
    # ever read "not" before a colour or a size
    out = [w for i, w in enumerate(out) if not (w in _NEGATIONS and (out[i + 1:i + 2] or [""])[0] not in _ATTR_SET)]
    if knows_vocabulary(vocab):   # the default model's words: rewritten into a trained wording if need be
        out = canonical_words(out)
    return tuple(out)


def normalize_words(text: str, vocab: Sequence[str]) -> List[str]:
    """The phrase as the model's words: normalised, unknown words corrected to a close spelling or dropped."""
    return list(_normalize_words_cached(text, tuple(vocab)))


# Colour names no object of the tabletop world has (the synonyms above map the ones that are shades of its
# eight colours: "crimson" -> red, "navy" -> blue). A phrase asking for one names nothing the model can see.
OTHER_COLOURS = frozenset(
    "pink brown grey gray teal cyan turquoise beige tan silver khaki indigo aqua peach salmon coral bronze "
    "copper charcoal transparent rainbow pinkish brownish greyish grayish tealish".split())
# ordinals past the model's: it was trained on first (= leftmost/rightmost), second and third from a side
_PAST_THIRD = frozenset("fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())
_NUMBER_RE = re.compile(r"^(\d+)(st|nd|rd|th)?$")
_NOUN_WORDS = frozenset(NOUNS + PLURALS)
# words that pick out an object: without one ("the", "it", "yes") the phrase asks for nothing in particular
_PICKING_WORDS = frozenset(NOUNS + PLURALS + COLORS + SIZES + SUPERLATIVES + ORDINALS)
# Words that never say which object is meant, so dropping them loses nothing and is not worth a warning:
# function words, request verbs, politeness, who is speaking, and words about the scene or the request itself.
FUNCTION_WORDS = frozenset("""
    i me my mine we us our you your yours you'd you'll you're it its it's they them their he she him her one's
    am are be been being was were has have had do does did will would shall should can could may might must
    let lets let's need needs want wants wanted like would've i'd i'll i'm we'd we'll we're
    a an and or but if so then than as at by for with without into onto over under out about after before
    along up down off here there now just only also too very really quite still even ever please kindly
    thanks thank cheers dear pal mate folks sir madam yes no ok okay hello hi hey well oh aw wow right-o
    get gets getting got give gives gave giving gimme take takes took taking grab grabs grabbing fetch
    fetches bring brings pass passes hand hands move moves moving reach reaches pick picks picked picking
    select selects selected selecting choose chooses chosen snag yoink chuck grasp grasps lift lifts go goes
    going come comes look looking see seen view show find finds found want request requested requesting
    asked asking ask help assist wonder reckon think guess mean means meant say said tell
    robot robot's user customer operator unit arm gripper chef
    picture image scene frame photo shot camera's view
    located positioned position placed sitting sat standing lying resting appears seems
    side size colour color shape kind sort type bit lot much way thing's
    what which whose who when where why how whatever whichever
    quick quickly moment sec second's hurry now convenience trouble
""".split())


@dataclass(frozen=True)
class PhraseReading:
    """What the tabletop model makes of one phrase.

    `words` are what the network reads (`normalize_words`); `unknown` the phrase's words it has no word for
    and dropped, function words aside (`FUNCTION_WORDS`: "please", "you", "grab" never are); `refusal` says why
    the phrase cannot be grounded at all by this model, "" when it can. Why refuse: dropping an unknown
    word degrades "the shiny red mug" gracefully to "the red mug", but "pick up the banana" would become
    "the", and the network then picked some object above the threshold in half of the scenes tried: a
    robot would pick up something nobody asked for. A phrase the model cannot read is answered like one
    naming something absent: no detections, with the reason as a warning.
    """

    words: Tuple[str, ...]
    unknown: Tuple[str, ...] = ()
    refusal: str = ""
    # a plural negation or several excluded attributes, grounded as a set difference (`plural_exclusion`): a
    # candidate any of `any_of` picks and none of `none_of` does ("the cube that is neither red nor blue": the
    # cubes, but not the red ones nor the blue ones; a singular phrase's best candidate is its answer)
    any_of: Tuple[str, ...] = ()
    none_of: Tuple[str, ...] = ()


# one plural per shape, as the generator words them: "everything that is not red" is their union, since the
# model never learnt "all the objects" without an attribute (it picked half of them)
SHAPE_PLURALS = ("cubes", "boxes", "cans", "balls", "mugs")
_PLURAL_NOT_RE = re.compile(
    rf"^(?:all|every|each) (?:the )?(?:non ({_COLORS}|{_SIZES}) )?((?:(?:{_SIZES}) )?(?:(?:{_COLORS}) )?)"
    rf"({'|'.join(NOUNS + PLURALS)})(?: that is not ({_COLORS}|{_SIZES}))?$")


def plural_exclusion(words: Sequence[str]) -> Tuple[Tuple[str, ...], str]:
    """("all the cups",), "all the red cups" for a reading "all the cups that is not red"; ((), "") for any
    other. Why: the generator's plurals never carry a negation, and the network answered "all the cups that
    are not red" like "all the cups" (the exact set in 16 of 85 probes, red cups included); both halves it
    reads well (71 of 85 as a difference, `test_tabletop_plural_negation.py`)."""
    m = _PLURAL_NOT_RE.match(" ".join(words))
    if not m or (m[1] is None) == (m[4] is None):
        return (), ""
    excluded, attrs, noun = m[1] or m[4], m[2].split(), m[3]
    plural = noun if noun in PLURALS else PLURALS[NOUNS.index(noun)]
    same_class = SIZES if excluded in SIZES else COLORS
    kept = [a for a in attrs if a not in same_class]
    minus = [excluded] + kept if excluded in SIZES else kept + [excluded]
    if plural in GENERIC:
        return tuple(f"all the {' '.join(attrs + [p])}" for p in SHAPE_PLURALS), f"all the {' '.join(minus)} objects"
    return (f"all the {' '.join(attrs + [plural])}",), f"all the {' '.join(minus + [plural])}"


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _refusal(words: Sequence[str], unknown: Sequence[str], phrase: Sequence[str]) -> str:
    """Why the default model's vocabulary cannot ground a phrase normalised to `phrase` and read as `words`,
    with `unknown` dropped; "" when it can."""
    if not _PICKING_WORDS & set(words):
        unknown_part = f" ({_quoted(unknown)} unknown)" if unknown else ""
        return f"no word the model knows says which object{unknown_part}"
    ordinal = next((i for i, w in enumerate(words) if w in ORDINALS), None)
    said = " ".join(words)
    if ordinal is not None and (("from the left" not in said and "from the right" not in said)
                                or (words[ordinal + 1:ordinal + 2] and words[ordinal + 1] in SUPERLATIVES)):
        # "the second cube from the top", "the second closest cup": the model never learnt these counts and
        # would answer some other question
        return (f"the model counts only from the left or the right ({' '.join(words)!r}); "
                "say 'the second ... from the left' or use a VLM backend")
    if not unknown:
        return ""
    if not _NOUN_WORDS & set(words):
        return f"no word the model knows names the object ({_quoted(unknown)} unknown)"
    # the object's own place holds only an unknown word: "the banana on the left" would be grounded as "the
    # thing furthest to the left", some object of any kind. The target is what comes before a relation to an
    # anchor; the unknown word stands where its noun would, before a place phrase or last after an article,
    # attribute or superlative ("the largest banana", "the banana left of the cup")
    target = _RELATION_ANCHOR.split(" ".join(phrase), maxsplit=1)[0].split()
    if not _NOUN_WORDS & set(target):
        for i, w in enumerate(target):
            after = target[i + 1] if i + 1 < len(target) else None
            before = target[i - 1] if i > 0 else None
            if w in unknown and (after in _PLACE_START or after is None and before in _BEFORE_NOUN):
                return f"no word the model knows names the object ({_quoted([w])} unknown)"
    negated = bool(_NEGATIONS & set(phrase))   # "not pink" asks for any of them: it still reads
    # a colour counts when it is the object's: before its noun ("the grey cube", "the grey metal cube") or
    # said of it ("the cup that is grey"), not of something else ("the cube near the grey wall")
    colours = [w for i, w in enumerate(phrase) if w in OTHER_COLOURS and w in unknown
               and (_NOUN_WORDS & set(phrase[i + 1:i + 3]) or phrase[i - 1:i] == ["is"])]
    if colours and not negated:
        return f"{_quoted(colours)} is not a colour the model knows ({', '.join(COLORS)})"
    for w in unknown:
        m = _NUMBER_RE.match(w)
        # a bare number counts only just before its "from" ("cup 4 from left"), not a robot's name ("Unit 7,
        # bring me the 2nd mug from the left")
        at = phrase.index(w) if w in phrase else -1
        counted = at >= 0 and "from" in phrase[at + 1:at + 5]
        if w in _PAST_THIRD or (m and (int(m.group(1)) > 3 if m.group(2) else counted)):
            return f"{_quoted([w])}: the model counts no further than the third from a side"
    return ""


# where the words about the object itself end and its anchor's begin; what may follow the object's noun
_RELATION_ANCHOR = re.compile(r"\b(?:left of|right of|in front of|behind|closer than|farther away than)\b")
_PLACE_START = frozenset({"furthest", "farthest", "closest", "nearest", "that", "on", "in", "at"})
_BEFORE_NOUN = frozenset({"the", "a", "an", *COLORS, *SIZES, *SUPERLATIVES, *ORDINALS})


# relations the normaliser drops whole with their object (the model has no word for them): reported, since
# the phrase is then grounded without them ("the cube between the two mugs" as "the cube")
_DROPPED_RELATION_RE = re.compile(
    r"\b(next to|beside|besides|nearby|near|close to|alongside|touching|between|on top of|atop|underneath|"
    r"under|beneath|inside|within|in the (?:middle|center|centre)|(?:in|on)(?= (?:the |a |an )?"
    rf"(?:(?:{_COLORS}|{_SIZES}) )*(?:{_NOUNS})\b))\b(?! (?:me|you|us|the camera|the robot|the viewer)\b)")


# a negation the normaliser left before a side, a rank or a relation ("not the leftmost cup", "the cup that is not
# left of the box"), or with nothing after it ("the cup that is not", its "rightmost one" gone): the model's "not"
# reads only a colour or a size, so the words reached it without the "not" and asked for the very object the
# speaker excluded
_NEGATED_PLACE_RE = re.compile(
    r"\b(?:not|except)(?: (?:the|a|an|that|is|one|thing|things|ones|want|need|mean|take|grab|get|pick|up|me|"
    r"fetch|choose|select|bring|give|hand))* (?:leftmost|rightmost|nearest|farthest|"
    r"furthest|closest|largest|biggest|smallest|tiniest|first|second|third|last|left|right|behind|in front|front|"
    r"closer|farther|further|nearer|from the)\b|\b(?:not|except)$")


@lru_cache(maxsize=8192)
def _read_phrase_cached(text: str, vocab: Tuple[str, ...]) -> PhraseReading:
    known = set(vocab)
    phrase = normalize_phrase(text).split()
    unknown = [m[1] for m in _DROPPED_RELATION_RE.finditer(_clean(text).replace("-", " "))]
    for w in phrase:
        if w not in known and w not in FUNCTION_WORDS and not _closest(w, vocab) and w not in unknown:
            unknown.append(w)
    unknown = list(dict.fromkeys(unknown))
    words = _normalize_words_cached(text, vocab)
    if not knows_vocabulary(vocab):
        return PhraseReading(words, tuple(unknown))
    refusal = _refusal(words, unknown, phrase)
    if not refusal and _NEGATED_PLACE_RE.search(" ".join(phrase)):
        refusal = ("the model negates only a colour or a size, not a side, a rank or a relation; name the object "
                   "wanted (e.g. 'the second cup from the left')")
    if not refusal and rejection_unread(self_correction(_clean(text))):
        refusal = ("it says only which object is not wanted; name the one that is (e.g. 'the mug that is not "
                   "red')")
    more = _more_excluded(words, " ".join(phrase))
    any_of, none_of = plural_exclusion(words)
    if more and not any_of:   # "the cube that is neither red nor blue": the cubes but the red and the blue ones
        any_of, none_of = plural_exclusion(_as_plural(words))
    if not any_of:
        # the model reads one excluded attribute, and the set difference needs a plain noun phrase ("the
        # leftmost cube that is neither red nor blue" is grounded without its second): said, not silent
        return PhraseReading(words, tuple(unknown) + tuple(f"or {attr}" for attr in more), refusal)
    excluded = [none_of] + [plural_exclusion(_as_plural(_excluding(words, attr)))[1] for attr in more]
    return PhraseReading(words, tuple(unknown), refusal, any_of, tuple(dict.fromkeys(excluded)))


def _more_excluded(words: Tuple[str, ...], phrase: str) -> List[str]:
    """The excluded attributes after the first that `phrase` names ("not red or blue or green" -> ["blue",
    "green"]); [] when it names one, or when `words` does not say "not <the first>" once."""
    m = _MORE_EXCLUDED_RE.search(phrase)
    if not m or sum(words[i:i + 2] == ("not", m[1]) for i in range(len(words))) != 1:
        return []
    return re.findall(_ATTR, m[2])


def _excluding(words: Tuple[str, ...], attr: str) -> Tuple[str, ...]:
    """`words` with `attr` in place of the attribute after "not"."""
    i = words.index("not") + 1
    return words[:i] + (attr,) + words[i + 1:]


def _as_plural(words: Tuple[str, ...]) -> Tuple[str, ...]:
    """"the cube that is not red" -> "all the cubes that is not red", as `plural_exclusion` reads it; any
    other words unchanged (a superlative or a relation is not a set)."""
    said = " ".join(words)
    m = re.fullmatch(rf"the ((?:(?:{_ATTR}) )*)({'|'.join(NOUNS)}) (that is not {_ATTR})", said)
    if not m:
        return words
    plural = PLURALS[NOUNS.index(m[2])]
    return tuple(f"all the {m[1]}{plural} {m[3]}".split())


def read_phrase(text: str, vocab: Sequence[str]) -> PhraseReading:
    """`PhraseReading` of `text` for a model with `vocab`. A fine-tuned vocabulary this module cannot place
    ("egg", a part number) is never refused: its unknown words are only reported."""
    return _read_phrase_cached(text, tuple(vocab))
