"""Formal, wordy descriptions, as a language model writes when asked to rephrase a request, said plainly.

"The mug that occupies the leftmost positioning among all the mugs", "the cup located at a greater distance
from the viewer than the box", "the second cube when the cubes are counted starting from the leftmost one",
"the mug which does not possess a red coloration": planners built on language models write this way, and
so do the people who copy their style. Each says one of the model's meanings with filler verbs ("can be
observed", "appears to be", "is resting"), nominalisations ("placement", "positioning", "dimensions") and
comparisons spelled out ("when compared with", "in comparison to"). A blind set in that register
(test/phrasings/blind_ah.tsv) reached the model with its meaning in about two lines in three.

`plain_description` rewrites those forms into the wordings the rest of the normaliser reads. It runs on the
cleaned text (lower case, sentence ends as commas) before the request words are stripped. Every rule needs
its whole form, so a phrase without one is returned as it is; the generator's own wordings never contain one
(test_tabletop_language.py checks the normalised text of every generated wording is unchanged).
"""

from __future__ import annotations

import re
from typing import Callable, List, Tuple, Union

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES, singular

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS + ("block", "blocks", "brick", "bricks", "cylinder", "cylinders", "sphere",
                                           "spheres", "cup", "cups", "items", "item", "objects", "object", "things",
                                           "thing", "elements", "element", "pieces", "piece"),
                        key=len, reverse=True))
_GROUP = rf"(?:(?:{_ATTR}) )*(?:{_NOUN})"
_VIEWER = r"(?:the )?(?:viewer|observer|camera|camera's position|lens|onlooker|vantage point|robot|me|us)"
# who looks, in the words only this register uses (the generator says "me" and "the camera")
_OBSERVER = r"(?:the )?(?:viewer|observer|onlooker|vantage point|camera's position|point of view)"
_FILLER_VERB = r"(?:resting|sitting|lying|standing|placed|located|situated|positioned|found|set|lies|sits|rests)"
_OBSERVED = (r"(?:observed|seen|found|spotted|located|identified|noticed|detected|viewed|perceived|discerned|"
             r"made out)")
_ON_TABLE = (r"(?: (?:on|upon|atop|across) the (?:table|tabletop|table top|surface|work ?surface|workspace)|"
             r" (?:with)?in the (?:scene|workspace|image|picture|frame|view|camera view|field of view|"
             r"camera's field of view|visible area)| present| visible| in view| in sight)")
_TABLE = r"(?:table|tabletop|table top|workspace|work area|surface|desk|bench)"
_SUPERLATIVE = {"smaller": "smallest", "tinier": "smallest", "littler": "smallest", "larger": "largest",
                "bigger": "largest", "nearer": "nearest", "closer": "nearest", "farther": "farthest",
                "further": "farthest"}
_COMPARE = (r"(?:when |as )?(?:compared (?:with|to)|in comparison (?:with|to)|relative to|with respect to|"
            r"in relation to|as opposed to)")

_EDGE_RELATION = {"front": "in front of", "near": "in front of", "back": "behind", "far": "behind", "rear": "behind",
                  "left": "left of", "right": "right of"}
_ATTR_WORDS = rf"(?:(?:{_ATTR}) )*"
_IT_RELATION = {"to its left": "left of", "on its left": "left of", "left of it": "left of", "to its right": "right of",
                "on its right": "right of", "right of it": "right of", "in front of it": "in front of",
                "behind it": "behind"}

Rule = Tuple[str, Union[str, Callable[["re.Match"], str]]]

# a position said as a number ("in position 2")
_NTH = {"1": "first", "2": "second", "3": "third", "one": "first", "two": "second", "three": "third"}

_RULES: List[Rule] = [
    # focus and clefts (blind set AL): "the thing to grab is ...", "what I need is ...", "it's the ... that I want",
    # "the ones I'm after are ...", "...: that's what you should collect"
    (r"^(?:so,? )?the (?:thing|one|object|item)s? (?:to|you should|i want you to|i'd like you to|you need to) "
     r"(?:take|grab|pick(?: up)?|get|collect|fetch|lift|go for|select)(?: up)? (?:is|are)\b", ""),
    (r"^(?:so,? )?the (?:thing|one|object|item)s? (?:i'm|i am|we're|we are|you're|you are) (?:after|looking for|"
     r"asking for) (?:is|are)\b", ""),
    (r"^(?:so,? )?what (?:i|we) (?:need|want|'m after|am after|'d like|would like) is\b", ""),
    (r"^it(?:'s| is) (the .+?) (?:that|which) (?:i|we|you)\b.*$", r"\1"),
    (r",\s*that(?:'s| is) (?:what|the one|the thing|it)(?: (?:you should|i want you to|to|i need you to|i'm after|"
     r"i am after|i want))?(?: (?:take|grab|pick(?: up)?|get|collect|fetch|lift))?(?: up)?$", ""),
    (r"^there(?:'s| is) an? (.+?),\s*(?:that|this) one$", r"the \1"),
    # fronted: "the box, the cup to its left, that's the one" / "left of the box, that cup is the thing to grab"
    (rf"^(?P<a>(?:the )?(?:{_ATTR_WORDS})?(?:{_NOUN})), (?P<t>the (?:{_ATTR_WORDS})?(?:{_NOUN})) "
     r"(?P<rel>to its left|to its right|on its left|on its right|in front of it|behind it|left of it|right of it)$",
     lambda m: f"{m['t']} {_IT_RELATION[m['rel']]} {m['a'] if m['a'].startswith('the ') else 'the ' + m['a']}"),
    (rf"^(?P<rel>[^,]+?) (?P<a>the (?:{_ATTR_WORDS})?(?:{_NOUN})), (?:that|the|this) (?P<t>(?:{_ATTR_WORDS})?"
     rf"(?:{_NOUN})) is the (?:thing|one|object)\b.*$", lambda m: f"the {m['t']} {m['rel']} {m['a']}"),
    # "further left than all the other mugs": the leftmost (before "further left than" becomes "left of")
    (rf"\b(?:further|farther|more) (?:to the )?(left|right) than (?:all|every|each|any)(?: of)?(?: the)? "
     rf"(?:other|remaining)(?: (?:{_GROUP}|ones?))?\b", r"\1most"),
    # the table's own geometry (blind set AO): edges, ends of a row, halves; the camera is at the front edge
    (r",?\s*as seen from (?:the )?(?:front edge|front|camera|near side|front of the table|where the camera is)"
     rf"(?: of the {_TABLE})?", ""),
    (rf"\bbetween (the [^,]+?) and the (front|near|back|far|rear|left|right)(?: hand)? (?:edge|side|end)(?: of the "
     rf"{_TABLE})?\b", lambda m: f"{_EDGE_RELATION[m[2]]} {m[1]}"),
    (rf"\b(?:closer|nearer) to the (front|near|back|far|rear) (?:edge|side|end)(?: of the {_TABLE})? than\b",
     lambda m: "closer than" if m[1] in ("front", "near") else "farther away than"),
    (rf"\b(?:closest|nearest)(?: to)? the (front|near|back|far|rear) (?:edge|side|end)(?: of the {_TABLE})?",
     lambda m: "closest to the camera" if m[1] in ("front", "near") else "furthest from the camera"),
    (rf"\b(?:furthest|farthest|most) over (?:on|to|at) the (left|right)(?:[- ]hand)?(?: side| end| edge)?"
     rf"(?: of the {_TABLE})?", r"furthest to the \1"),
    (rf"\bat the (left|right)(?:[- ]hand)? end of the (?:row|line)(?: of (?:the )?{_GROUP})?", r"furthest to the \1"),
    (rf"\b(first|second|third) ({_GROUP}) (?:along |in )?from the (left|right)(?:[- ]hand)? end(?: of the (?:row|line)"
     rf"(?: of (?:the )?{_GROUP})?)?", r"\1 \2 from the \3"),
    (rf"\bthe ({_GROUP}) (second|third) (?:closest|nearest) to the (left|right)(?:[- ]hand)? (?:edge|side|end)"
     rf"(?: of the {_TABLE})?", r"the \2 \1 from the \3"),
    (rf"\b(?:the )?next ({_GROUP}) (?:after|along from|over from) the (left|right)most(?: one| {_GROUP})?",
     r"the second \1 from the \2"),
    (rf"\b(?:the )?({_GROUP}) (?:one|two) places? (?:after|along from|over from) the (left|right)most"
     rf"(?: one| {_GROUP})?",
     lambda m: f"the {'second' if ' one place' in m[0] else 'third'} {m[1]} from the {m[2]}"),
    (r"\b(?:that )?takes? up the most (?:room|space)(?: on the table)?", "that is the largest"),
    (r"\b(?:that )?takes? up the least (?:room|space)(?: on the table)?", "that is the smallest"),
    (rf"\bmore (near|close|far)(?: away)?(?: (?:of|to|from) (?:the )?camera)? than (?:all|every|each|any)(?: of)?"
     rf"(?: the)? others?(?: (?:{_GROUP}|ones?))?\b", lambda m: "nearest" if m[1] != "far" else "farthest"),
    (r"\b(?:which |that )?is after (the [^,]+?),? more far(?: away)? from the camera\b", r"that is behind \1"),
    # European learners' calques (blind set AN): "the more left cup", "the most in the left", "more near of the
    # camera (than)", "nearer to the camera as", "is not of colour red", "has not the colour red", "in the right
    # of", "the biggest mug of all mugs", "what is for the box, on the camera side" (German "vor")
    (r"\bmore (?:near|close)(?: (?:of|to) (?:the )?camera)? (?:than|as)\b", "closer than"),
    (r"\bmore far(?: away)?(?: (?:of|from) (?:the )?camera)? (?:than|as)\b", "farther away than"),
    (r"\bmore (?:to|on) the (?:side of the camera|camera side) than\b", "closer than"),
    (r"\bmore in front than\b", "in front of"), (r"\bmore behind than\b", "behind"),
    (r"\b(nearer|closer|farther|further|farer)( (?:to|from) (?:the )?camera)? as (?=the |a |an )",
     lambda m: f"{'farther' if m[1] == 'farer' else m[1]}{m[2] or ''} than "),
    (r"\bmore (?:near|close) (?:of|to) (?:the )?camera\b", "closest to the camera"),
    (r"\bmore far(?: away)? (?:of|from) (?:the )?camera\b", "furthest from the camera"),
    (r"\bthe more (left|right) ", r"the \1most "),
    (r"\b(?:the )?most (?:on|in|at) the (left|right)\b", r"the \1most"),
    (rf"\bthe more (?:great|grand|big|large|huge) (?=(?:{_GROUP})\b)", "the largest "),
    (rf"\bthe more (?:small|tiny|little|petite?) (?=(?:{_GROUP})\b)", "the smallest "),
    (rf"\bthe ({_GROUP}) the more (?:great|grand|big|large|huge)\b", r"the largest \1"),
    (rf"\bthe ({_GROUP}) the more (?:small|tiny|little|petite?)\b", r"the smallest \1"),
    (rf"\b(?:is not|isn't) of (?:the )?(?:colou?r|size) ({_ATTR})\b", r"is not \1"),
    (rf"\b(?:has not|hasn't|have not|haven't) (?:the |a )?(?:colou?r|size) ({_ATTR})\b", r"is not \1"),
    (r"\b(?:in|at) (?:the )?(left|right) of\b(?! (?:all|them|every|each|the others?|any)\b)", r"\1 of"),
    (rf"\b(\w+est|\w+most) ({_GROUP}) of all (?:the )?(?:{_GROUP})\b", r"\1 \2"),
    (r"\b(?:is|stands|stays) for (the [^,]+?),? on the camera side\b", r"is in front of \1"),
    (r"\b(?:is |stands |stays )?after (the [^,]+?),? (?:more far|farther|further)(?: away)? from the camera\b",
     r"behind \1"),
    # "in second place from the right": the ordinal
    (r"\b(?:in|at) (first|second|third) (?:place|position|spot)\b", r"\1"),
    # filler verbs of seeing and classifying: "that can be observed on the table", "which can be found",
    # "that can be described as the", "the items that can be classified as mugs"
    (rf"\b(?:that|which) (?:can|could|may|might) be {_OBSERVED}(?:{_ON_TABLE})?(?= |$|,)", "that is"),
    (r"\b(?:the )?(?:element|item|object|piece|thing|one)s? (?:that|which) (?:can|could|may|might) be "
     r"(?:described|classified|categori[sz]ed|identified|characteri[sz]ed|labell?ed|recogni[sz]ed|considered) as "
     r"(?:the |a |an |being )?", "the "),
    (rf"\b(?:all|each|every)(?: single)?(?: one)? of the (?:items|objects|things|elements|pieces) (?:that|which) "
     rf"(?:can|could|may|might) be (?:described|classified|categori[sz]ed|identified|considered|labell?ed) as "
     rf"(?:being )?(?=(?:{_ATTR}|{_NOUN})\b)", "all the "),
    (rf"\b(?:positioned|placed|located|situated|sitting|resting|found) (?:among|amongst) the (?:items|objects|things|"
     rf"elements|pieces)(?:{_ON_TABLE})?", ""),
    (rf"\bthat is(?:{_ON_TABLE})(?= |$|,)", ""),
    (rf"\b({_NOUN})(?:{_ON_TABLE})(?=$|,)", r"\1"),
    # "the box you can see on the right", "the mug that you can see near the camera": seeing is not a property,
    # and its "can" is no shape (found on the last read)
    (r"\b(?:that |which )?(?:you|i|we|the robot|the camera) (?:can|could|may) (?:see|spot|find|reach|grab|get|"
     r"pick(?: up)?|make out|notice|view)(?: (?:most |more )?(?:easily|clearly|best))?(?= |$|,)", ""),
    # "of the objects present, ...", "among the objects, ...": the group is every object
    (r"^(?:(?:of|among|amongst|from) (?:all )?(?:of )?the (?:objects|items|things|elements|pieces)"
     r"(?: present| visible| on the table| in the scene| shown)?),\s*", ""),
    # hedges: "that appears to be the leftmost one", "the one that seems to be placed further right"
    (r"\b(?:that|which) (?:appears|seems|looks) to be(?: (?:placed|positioned|located|situated))?\b", "that is"),
    (r"\b(?:appears|seems|looks) to be\b", "is"),
    # nominalised positions: "whose placement is to the left", "whose position lies rightward", "occupies a
    # position nearer to"
    (r"\bwhose (?:placement|position|location|positioning)(?: (?:is|lies|sits|rests|falls))?\b", "that is"),
    (r"\b(?:that|which) (?:occupies|holds|has|takes up) (?:a |the )?(?:position|place|spot|location)\b", "that is"),
    (r"\boccupying (?:a |the )?(?:position|place|spot|location)\b", "that is"),
    (r"\b(?:that |which )?(?:occupies|occupying|represents|representing|holds|holding|takes|taking|has|having|"
     r"with) the (\w+most|\w+est) (?:position(?:ing)?|placement|place|spot|location|dimensions?|size)\b",
     r"that is the \1"),
    (r"\b(?:occupies|occupying|represents|representing|holds|holding) the (\w+most|\w+est)\b", r"is the \1"),
    (r"\bwhose placement represents\b", "that is"),
    # "leftward of", "rightwards relative to"
    (r"\b(left|right)wards? of\b", r"\1 of"),
    (r"\b(left|right)wards? (?=than|relative to|compared|in comparison|when compared|as compared|with respect to)",
     r"to the \1 "),
    # spelled-out comparisons: "further to the left than", "nearer to the viewer in comparison to", "at a greater
    # distance from the viewer than", "more distant from the observer compared with"
    (r"\bthan that of\b", "than"),
    (rf"\b{_COMPARE} the (?:position|location|placement|positioning) of\b", "than"),
    (rf"\b(?:than )?{_COMPARE}\b", "than"),
    (rf"\b(?:than )?(?:further|farther|more)(?: over)?(?: to(?:wards?)? the)? (left|right)(?: side)?"
     rf"(?: on the {_TABLE})?(?: than)\b",
     r"\1 of"),
    (r"\b(?:to|on) the (left|right)(?: hand)?(?: side)? than\b", r"\1 of"),
    # (said as the generator's "closer than" / "farther away than", which the rest reads)
    (rf"\b(?:nearer|closer) to {_OBSERVER} than\b", "closer than"),
    (rf"\b(?:at a )?(?:greater|larger|bigger|longer) distance (?:away )?from {_VIEWER} than\b", "farther away than"),
    (rf"\bmore distant from {_VIEWER} than\b", "farther away than"),
    (rf"\b(?:at a )?(?:smaller|shorter|lesser|lower) distance (?:away )?from {_VIEWER} than\b", "closer than"),
    (rf"\b(?:further|farther) (?:away )?from {_OBSERVER} than\b", "farther away than"),
    (rf"\b(?:behind|in front of) ((?:the )?{_GROUP}) from {_VIEWER}(?:'s)? (?:point of view|perspective|"
     r"viewpoint|vantage point|standpoint)\b", lambda m: m[0].split(" from ")[0]),
    (r",?\s*from the (?:camera|viewer|observer|robot)(?:'s)? (?:point of view|perspective|viewpoint|vantage point|"
     r"standpoint)\b", ""),
    # extremes said as a verb of position: "located most to the left", "resting the furthest to the right"
    (rf"\b(?:is |that is |which is )?(?:{_FILLER_VERB} )?(?:the )?(?:most|furthest|farthest) to the (left|right)\b",
     r"furthest to the \1"),
    (rf"\b(?:{_FILLER_VERB}) (?=(?:the )?(?:furthest|farthest|closest|nearest|most|\w+most|\w+est)\b)", ""),
    (rf"\b(?:(?:{_FILLER_VERB}) )?(?:closest|nearest) to the (left|right) (?:edge|side|end)(?: of the {_TABLE})?\b",
     r"furthest to the \1"),
    # "smaller than all the other mugs", "closer to the camera than every other one": the superlative
    (rf"\b(?:that is |which is )?(smaller|tinier|littler|larger|bigger|nearer|closer|farther|further)(?: away)?"
     rf"(?: (?:to|from) (?:the camera|me|us|the robot|the viewer))?(?: away)? than (?:all|every|each|any)(?: of)?"
     rf"(?: the)? (?:other|remaining)(?: (?:{_GROUP}|ones?))?\b", lambda m: _SUPERLATIVE[m[1]]),
    (rf"\b(?:{_FILLER_VERB}) (?:farthest|furthest) back\b", "furthest from the camera"),
    # "relative to the other mugs", "among all the mugs present", "of all the mugs on the table"
    (rf"\s*,?\s*(?:relative to|compared (?:with|to)|in comparison (?:with|to)|than) (?:all )?(?:of )?the "
     rf"(?:other|remaining|rest of the) {_GROUP}(?:{_ON_TABLE})?", ""),
    (rf"\b(?:furthest|farthest|most) to the (left|right) (?:of|among|amongst|out of) (?:all )?(?:of )?(?:the )?"
     rf"(?:{_GROUP})(?:{_ON_TABLE})?(?=$|,| that| which)", r"furthest to the \1"),
    (rf"\b(?:among|amongst|of|out of) (?:all )?(?:of )?the ({_GROUP})(?:{_ON_TABLE})(?=$|,| that| which)",
     r"of all the \1"),
    (rf"\b(\w+most|\w+est) (?:among|amongst) (?:all )?(?:of )?the ({_GROUP})(?=$|,| that| which)",
     r"\1 of all the \2"),
    # ordinals: "when the mugs are counted starting from the leftmost one", "counting the mugs from left to
    # right, the one that comes second", "whose placement is third in the left-to-right ordering of the mugs",
    # "that follows the leftmost mug when moving from left to right"
    (rf"\b(first|second|third) ({_GROUP}) when (?:the )?(?:{_GROUP}) (?:are|is) (?:counted|numbered|ordered|ranked|"
     rf"enumerated)(?: starting)? from the (left|right)(?:most)?(?: one| side| end| edge)?\b", r"\1 \2 from the \3"),
    (rf"^,?\s*(?:when )?(?:counting|numbering|ordering|enumerating|ranking) (?:the |all the )?({_GROUP}) from "
     rf"(?:counting from the )?(left|right)(?:[- ]to[- ](?:left|right))?,? the (?:one|thing|item|object|element) "
     rf"(?:that|which) (?:comes|is|ranks|"
     rf"appears|falls) (first|second|third)\b", lambda m: f"the {m[3]} {singular(m[1])} from the {m[2]}"),
    # "counting the mugs from left to right, where is the second one?", "..., find the third one"
    (rf"^,?\s*(?:when )?(?:counting|numbering|ordering|enumerating|ranking|going through) (?:the |all the )?"
     rf"({_GROUP}) from (?:counting from )?(?:the )?(left|right)(?:[- ]to[- ](?:the )?(?:left|right))?(?:, ?)*"
     rf"(?:where|which|what) is "
     rf"the (first|second|third)(?: one)?$", lambda m: f"the {m[3]} {singular(m[1])} from the {m[2]}"),
    (rf"^,?\s*(?:when )?(?:counting|numbering|ordering|enumerating|ranking|going through) (?:the |all the )?"
     rf"({_GROUP}) from (?:counting from )?(?:the )?(left|right)(?:[- ]to[- ](?:the )?(?:left|right))?(?:, ?)*"
     rf"(?:find|take|pick|get|grab|"
     rf"select|choose|locate|give me) the (first|second|third)(?: one)?$",
     lambda m: f"the {m[3]} {singular(m[1])} from the {m[2]}"),
    # "the mug in position 2 when the mugs are ordered from left to right"
    (rf"\b({_GROUP}) (?:in|at) (?:position|place|spot|slot|rank)(?: number)? (1|2|3|one|two|three) when (?:the )?"
     rf"(?:{_GROUP}) (?:are|is) (?:counted|numbered|ordered|ranked|sorted|arranged|lined up|enumerated) from "
     rf"(?:counting from )?(?:the )?(left|right)(?:[- ]to[- ](?:the )?(?:left|right))?\b",
     lambda m: f"{_NTH[m[2]]} {m[1]} from the {m[3]}"),
    (rf"\b(?:that is |is )?(first|second|third) in the (left|right)[- ]to[- ](?:left|right) (?:ordering|order|sequence|"
     rf"ranking|arrangement|numbering)(?: of (?:all )?(?:the )?{_GROUP})?", r"\1 from the \2"),
    (rf"\b({_GROUP}) (?:that|which) (?:follows|comes after|is after|is next after) the (left|right)most "
     rf"(?:{_GROUP}|one)(?: when (?:moving|going|counting|reading) from (?:left|right) to (?:left|right))?",
     r"second \1 from the \2"),
    # negation said as having a property: "does not possess a red coloration", "appears to be a color different
    # from red", "possessing a size that differs from small"
    (rf"\b(?:that |which )?(?:does not|doesn't|do not) (?:possess|have|exhibit|display|show|bear|feature)"
     rf"(?: a| an| the)? ({_ATTR})(?: colou?r(?:ation|ing)?| size| hue| tint| shade)?\b", r"that is not \1"),
    (rf"\b(?:that |which )?(?:is |has |possesses |possessing |having |exhibits |exhibiting |of )?(?:a |an )?"
     rf"(?:colou?r(?:ation)?|hue|size|shade|tint)(?: that is| which is| that|which)? "
     rf"(?:different|differs|differing|distinct|other) (?:from|to|than) ({_ATTR})\b", r"that is not \1"),
    (rf"\b(?:that )?is not (?:a |an )?({_ATTR}) (?:in )?(?:colou?r(?:ation|ing)?|size|hue|shade|tint)\b",
     r"that is not \1"),
    (r"\bthat is that is not\b", "that is not"),
    # "with the largest dimensions" (rules above) and "the littlest one": the superlative alone
    (r"\bthe (littlest|tiniest|smallest|largest|biggest) one (?:among|amongst|of)\b", r"the \1 of"),
]
_RULES_C = [(re.compile(p), r) for p, r in _RULES]


def plain_description(text: str) -> str:
    """Cleaned text -> the same with the formal forms above said plainly (see the module's docstring)."""
    text = text.strip(" ,")   # a final full stop is a comma here, and the rules anchor at the end
    for pat, rep in _RULES_C:
        text = pat.sub(rep, text)
    return re.sub(r"\s+", " ", text).strip()
