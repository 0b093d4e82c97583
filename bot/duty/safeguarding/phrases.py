"""The deterministic net: phrases a social worker would stop at, with negation and other contexts set aside."""

from __future__ import annotations

import re

# Carers text fast, on small keyboards, late at night: fold common spellings onto one word first.
SPELLINGS = {
    "cnt": "cant", "carnt": "cant", "kant": "cant", "cannae": "cant", "cant": "cant", "caint": "cant",
    "dnt": "dont", "dont": "dont", "doesnt": "dont",
    "wanna": "want to", "wana": "want to", "wont": "will not", "gonna": "going to", "gona": "going to",
    "im": "i am", "ive": "i have", "iam": "i am",
    "u": "you", "ur": "your", "r": "are", "n": "and", "wat": "what", "wot": "what", "wht": "what",
    "wats": "what is", "wots": "what is",
    "whats": "what is", "thats": "that is", "theres": "there is", "hes": "he is", "shes": "she is",
    "theyre": "they are", "isnt": "is not", "aint": "is not", "wasnt": "was not", "didnt": "did not",
    "myslef": "myself", "mysef": "myself", "meself": "myself", "mysel": "myself", "myselfe": "myself",
    "mself": "myself", "mysefl": "myself",
    "kil": "kill", "killl": "kill", "kiling": "killing", "dye": "die",
    "anymore": "any more", "nomore": "no more", "enuf": "enough", "enogh": "enough",
    "tabs": "tablets", "tablet": "tablets", "pill": "pills", "meds": "pills", "medication": "pills",
    "breathin": "breathing", "breething": "breathing", "breatheing": "breathing",
    "cpoe": "cope", "copeing": "coping", "copin": "coping",
    "mum": "mum", "mom": "mum", "mam": "mum", "mom's": "mum", "mummy": "mum", "mother": "mum",
    "dad": "dad", "father": "dad", "daddy": "dad",
    "hubby": "husband", "hubbie": "husband", "wifey": "wife",
    "suicidle": "suicidal", "sucidal": "suicidal", "suicdal": "suicidal", "suisidal": "suicidal",
    "sucide": "suicide", "suicde": "suicide", "suiside": "suicide", "suicid": "suicide",
    "overdoes": "overdose", "overdos": "overdose", "od": "overdose",
    "unconcious": "unconscious", "unconsious": "unconscious", "unconscience": "unconscious",
    "colapsed": "collapsed", "collasped": "collapsed", "collapse": "collapsed",
    "ambulence": "ambulance", "ambulanse": "ambulance",
    "threatend": "threatened", "thretened": "threatened",
    "abussed": "abused", "abusd": "abused", "neglectd": "neglected",
}

# The people a carer talks about: the person cared for, or someone else in the home.
PERSON = (r"(him|her|them|mum|dad|nan|gran|grandad|grandma|my (husband|wife|partner|son|daughter|"
          r"brother|sister|mum|dad|nan|gran|grandad|grandma|boy|girl|child|kid|lad|mother in law|"
          r"father in law|fella|bloke|ex))")
SUBJECT = (r"(he|she|they|mum|dad|nan|gran|grandad|grandma|my (husband|wife|partner|son|daughter|brother|"
           r"sister|mum|dad|nan|gran|grandad|grandma|boy|girl|child|kid|lad|fella|bloke|ex))")
ANY_MORE = r"(any more|any longer|no more|now|today|tonight)"

PATTERNS: dict[str, list[str]] = {
    "suicide_self_harm": [
        r"\bkill(ing)? myself\b", r"\bsuicid", r"\bend(ing)? (it all|my life|my own life|things|it now)\b",
        r"\bself harm", r"\bselfharm", r"\bhurt(ing)? myself\b", r"\bharm(ing)? myself\b",
        r"\bcut(ting)? myself\b(?! a\b)(?! some\b)(?! on\b)", r"\bburn(ing|t)? myself\b",
        r"\b(dont|do not|dont really|really dont) want to (be here|be alive|live|exist|go on|carry on|wake up)\b"
        r"(?! (all day|till|until|when|while|for|if|on my own at))",
        r"\bbetter off (dead|without me|if i was gone|if i wasnt here)\b",
        r"\bno (point|reason) (in |to )?(living|going on|carrying on|being alive|to live|being here)\b",
        r"\bwhat is the point( of| in)? (anything|living|life|it all|any of it|going on|carrying on|me|"
        r"being here|being alive|trying|everything)\b", r"^what is the point$",
        r"\b(want|wish|wishing|wished) (i was|i were|to be|i could be) (dead|gone|never born)\b",
        r"\bi want to die\b", r"\bwant to be dead\b", r"\bready to die\b", r"\bwant it (all )?to (stop|end)\b",
        r"\b(go to sleep|sleep) and (not|never) wake up\b",
        r"\boverdose\b", r"\btake all (my|the|of my) (pills|tablets)\b", r"\bstockpil(e|ing) (my )?(pills|tablets)\b",
        r"\b(taken|swallowed|took) (all|too many|a lot of|loads of) (my |his |her |the )?(pills|tablets)\b",
        r"\bjump (off|in front of)\b", r"\b(throw|throwing) myself\b", r"\bhang(ing)? myself\b",
        r"\b(cant|cannot|can not|dont) see a way out\b", r"\bno way out\b",
        r"\b(had|have) enough of (life|living|everything|it all)\b", r"\blife (is not|isnt) worth\b",
        r"\bnot worth living\b", r"\btired of (living|life|being alive)\b", r"\bhate being alive\b",
        r"\bwill not be here (tomorrow|much longer|for long)\b", r"\bjust want to disappear\b",
        r"\bnot be here any more\b", r"\bgoodbye (everyone|forever|cruel)\b",
        r"\bend it\b(?! (with|there|at|on|early|by))", r"\bdo something stupid\b",
    ],
    "harm_by_carer": [
        rf"\bi (am |have |will |would |might |could |may |nearly |almost |just |really )?"
        rf"(going to |want to |feel like |"
        rf"scared i will |afraid i will |worried i will |think i will |did )?(hit|hurt|harm|slap|slapped|smother|"
        rf"smothered|shake|shook|strangle|push|pushed|punch|punched|kick|kicked|kill|throttle|hitting|hurting|"
        rf"harming|slapping|shaking|pushing|killing|hurt|hit) {PERSON}\b",
        rf"\b(scared|afraid|worried|frightened|terrified) (i will|ill|i might|i could|i am going to) (hit|hurt|harm|"
        rf"kill|shake|smother|strangle|slap|push|snap at) {PERSON}\b",
        rf"\blose it with {PERSON}\b", r"\blost (it|my temper) (with|and)\b", r"\bsnap(ped)? and (hit|hurt|slap)",
        r"\b(pillow over|hands round|hands around) (his|her|their) (face|neck)\b",
        r"\bafraid of what i (might|will|could) do\b", r"\bscared of what i (might|will|could) do\b",
        rf"\bfeel like (killing|hitting|hurting|strangling) {PERSON}\b",
        rf"\b(locked|lock|shut) {PERSON} in\b", rf"\b(leave|left|leaving) {PERSON} (alone )?(on (his|her|their) own )?"
        rf"(all day|for days|all night|without (food|water|his pills|her pills))\b",
    ],
    "harm_to_carer": [
        rf"\b{SUBJECT} (is |was |has |keeps |kept |always |just |then |again )?(hits|hit|hitting|punches|punched|"
        rf"punching|kicks|kicked|kicking|slaps|slapped|attacks|attacked|attacking|hurts|hurt|hurting|chokes|choked|"
        rf"strangled|strangles|bites|bit|scratches|scratched|pushed|pushes|shoved|shoves|grabbed|grabs|beat|beats|"
        rf"beating|spat at|threw|throws|threatens|threatened|threatening) (at )?me\b",
        rf"\b{SUBJECT} (went|goes|go|came|comes|keeps going|has gone) for me\b",
        r"\b(went|goes|came|comes) for me (again|last night|today|with)\b",
        r"\b(scared|afraid|frightened|terrified) for my (life|safety)\b",
        rf"\b(scared|afraid|frightened|terrified) of {PERSON}\b",
        r"\bthreaten(ed|s|ing)? to (kill|hurt|stab|hit)\b", r"\b(is|gets|getting|got|becomes|was) (really |very |so )?"
        r"(violent|aggressive)\b", r"\blash(es|ed|ing)? out at me\b", r"\bby the (throat|neck|hair)\b",
        r"\bthrew (a|the|his|her) \w+ at me\b", r"\b(knife|knives) (at|to) me\b", r"\bpulled a knife\b",
        r"\bdomestic (violence|abuse)\b", r"\bwont let me (leave|out|go out)\b",
        r"\bwill not let me (leave|out|go out)\b",
        r"\block(s|ed)? me in\b", r"\b(black|bruised) eye\b", r"\bbruises? (from|where) (him|her|he|she)\b",
    ],
    "abuse_of_cared_for": [
        r"\babus(e|ed|ing|ive|er)\b", r"\bneglect(ed|ing|s)?\b",
        r"\b(not|nobody has|no one has|hasnt been|has not been|not been) (fed|eaten|washed|changed|eating)"
        r"( him| her| them)? (for|in) (days|a day|two days|2 days|ages)\b",
        r"\bleft in (a |his |her |their )?(soiled|wet|dirty)\b",
        r"\b(taking|takes|took|stealing|steals|stole|spending|spends) (his|her|their|mums|dads|nans) (money|pension|"
        r"benefits|bank card|card)\b", r"\b(rough|cruel|nasty) with (him|her|them|mum|dad)\b",
        r"\btouched (me|him|her) (inappropriately|down there|sexually)\b", r"\bsexual(ly)? (abuse|assault)",
        r"\b(in|sitting in|lying in) (his|her|their) own (mess|urine|wee|poo|faeces)\b", r"\bbed sores?\b",
        r"\bleft (him|her|them) in (a )?(soiled|wet|dirty)\b", r"\bforc(es|ed|ing) me to\b",
        r"\b(exploit|exploiting|exploited)\b", r"\bcoerc",
    ],
    "medical_emergency": [
        r"\b(not|isnt|is not|stopped|struggling|cant stop|barely|hardly) breathing\b", r"\bunconscious\b",
        r"\bcollapsed\b", r"\bchest pains?\b", r"\b(cant|cannot|can not) (wake|rouse) (him|her|them|mum|dad)\b",
        r"\bwont wake up\b", r"\bwill not wake up\b",
        r"\bhaving a (stroke|seizure|heart attack)\b", r"\b(having|had) a fit\b(?! of)", r"\bfitting\b",
        r"\bambulance\b", r"\bcall(ing|ed)? 999\b", r"\bdial(ling|led)? 999\b", r"^999$",
        r"\bbleeding (badly|a lot|heavily|everywhere)\b", r"\bblood everywhere\b", r"\bturn(ing|ed)? blue\b",
        r"\bchoking\b", r"\b(fallen|fell) and (cant|cannot|can not) get up\b", r"\bwont (respond|wake)\b",
        r"\bnot responding\b", r"\bunresponsive\b", r"\b(hit|banged) (his|her|their) head\b.*\b(blood|bleeding)\b",
        r"\b(it is|this is|its) an emergency\b", r"\bemergency (now|help|please)\b", r"\burgent help\b",
    ],
    "breaking_point": [
        r"\b(cant|can not|cannot|unable to|not able to|dont know how to|struggling to) cope\b",
        r"\b(i am )?not coping\b", r"\bat (breaking|snapping) point\b", r"\breached (my|breaking) (limit|point)\b",
        r"\b(cant|cannot|can not) (do|take|handle|stand|bear|face) (this|it|any of this|much more|life) "
        r"(any more|any longer|no more)\b",
        r"\b(cant|cannot|can not) (take|stand|bear|handle) (it|this|much more)\b"
        r"(?! (off|out|away|to|with|on|in|into|back|there|from|for|at|apart))",
        r"\b(cant|cannot|can not) do this( any more)?$",
        r"\bat the end of my (tether|rope)\b", r"\bfalling apart\b", r"\b(cant|cannot|can not) go on\b",
        r"\b(cant|cannot|can not) carry on( like this)?\b", r"\b(i am|im) (drowning|going under|sinking)\b",
        r"\brock bottom\b", r"\b(i am|feel) (completely |totally |so )?broken\b", r"\bon my knees\b",
        r"\b(this|it|caring|all this|everything|he|she|looking after (him|her|them)) is killing me\b",
        r"\bhad enough\b(?! (sleep|time|money|food|to eat|of (the|this) (weather|rain)))",
        r"\b(no|not) (one|anyone|nobody) to turn to\b", r"\b(please help me|help me please)$", r"\bcrisis\b",
        r"\b(i am|feel|getting) (so |really |very )?desperate\b(?! for)",
        r"\b(nervous|mental) breakdown\b", r"\b(having|have|had|verge of|close to) a breakdown\b",
        r"\b(i am|im) breaking down\b",
    ],
}
COMPILED = {flag: [re.compile(p) for p in patterns] for flag, patterns in PATTERNS.items()}

# Idioms that carry an alarming word but no risk; removed before matching so the rest still counts.
IDIOMS = [
    r"\bcould (murder|kill) (a|for a|for) [a-z ]*?(tea|coffee|cuppa|pint|drink|curry|pizza|biscuit|holiday|break|"
    r"sleep|lie in|bath|bacon sandwich|takeaway|chippy|glass of wine)\b",
    r"\b(kill|killing) (time|two birds)\b", r"\b(dying|die) (for|to) (a|get|see|have|go)\b", r"\bto die for\b",
    r"\b(nearly|almost) died (laughing|of embarrassment|of shock)\b", r"\bdead (tired|on my feet|easy|good)\b",
    r"\b(phone|battery|car|telly|tv|laptop|plant|plants|heater|boiler) (is |has |was )?(dead|died)\b",
    r"\bmurder mystery\b", r"\bkilling it\b", r"\bmy (back|feet|knees|legs|head|hip|hips|shoulder|neck) (is|are) "
    r"killing me\b", r"\bhit the (shops|road|hay|jackpot|bottle|roof|gym|sack)\b", r"\bcut myself (a|some) \b",
]
IDIOMS_COMPILED = [re.compile(p) for p in IDIOMS]


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, letters repeated 3+ times squeezed, common spellings folded."""
    text = text.lower()
    text = re.sub(r"[\u2019\u2018\u02bc`\u00b4']", "", text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = re.sub(r"([a-z])\1{2,}", r"\1\1", text)  # "pleeease" -> "pleease", "sooo" -> "soo"
    words = [SPELLINGS.get(w, w) for w in text.split()]
    text = " ".join(words)
    return re.sub(r"\bmy self\b", "myself", text)


# The tier each kind of risk starts at; immediacy (below) raises any of them to danger now.
TIER_OF = {"suicide_self_harm": "risk_disclosed", "harm_by_carer": "risk_disclosed", "harm_to_carer": "risk_disclosed",
           "abuse_of_cared_for": "risk_disclosed", "medical_emergency": "danger_now", "breaking_point": "strain"}
TIER_ORDER = ("none", "strain", "risk_disclosed", "danger_now")
IMMEDIATE = re.compile(
    r"\b(right now|now|tonight|at the moment|as we speak|this minute|just (taken|took|swallowed|done it|cut)|"
    r"(have|ive|i have) (taken|swallowed)|in my hand|(he|she|they) (is|are) (here|outside|at the door|coming)|"
    r"locked in the|hiding (in|from)|help me now|goodbye)\b")
# A clause that denies the risk, or tells someone else's story, a course or a programme, is set aside.
NEGATED = re.compile(
    r"\b(no|not|never|nothing like|nobody is|no one is|isnt|is not|wasnt|was not|without|dont think (its|it is)|"
    r"would never|will never|wouldnt|not that)\b(\s+\w+){0,3}?\s+(abus\w*|hurt\w*|harm\w*|hit\w*|suicid\w*|"
    r"violen\w*|neglect\w*|danger\w*|kill\w*|die|dead|risk|unsafe)\b")
CONTEXT = re.compile(
    r"\b(course|training|programme|program|documentary|film|movie|on (the )?(tv|telly|radio|news)|the news|"
    r"podcast|a book|novel|soap|eastenders|corrie|coronation street|article|leaflet|poster|"
    r"a (friend|woman|man|lady|bloke) (at|from|in) (the )?(group|work|church|carers)|"
    r"(her|his|their) (husband|wife|dad|mum|son|daughter) (did|used to))\b")


def clauses(text: str) -> list[str]:
    """The message in clauses, so a denial or a story in one does not hide a disclosure in another."""
    return [c for c in re.split(r"[.!?;\n]+|\s+but\s+|\s+though\s+|\s+however\s+", text) if c.strip()]


def read(text: str) -> tuple[str, tuple[str, ...]]:
    """The tier and kinds of risk the phrases find; ("none", ()) when none."""
    flags: dict[str, None] = {}
    immediate = False
    for clause in clauses(text):
        norm = normalise(clause)
        for idiom in IDIOMS_COMPILED:
            norm = idiom.sub(" ", norm)
        if NEGATED.search(norm) or CONTEXT.search(norm):
            continue
        found = [flag for flag, patterns in COMPILED.items() if any(p.search(norm) for p in patterns)]
        for flag in found:
            flags.setdefault(flag, None)
        if found and IMMEDIATE.search(norm):
            immediate = True
    if not flags:
        return "none", ()
    tier = max((TIER_OF[f] for f in flags), key=TIER_ORDER.index)
    if immediate and tier != "strain":
        tier = "danger_now"
    return tier, tuple(flags)
