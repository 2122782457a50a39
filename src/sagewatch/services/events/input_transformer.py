"""What a rule's target receives: the event itself, or its Input, InputPath or InputTransformer.

    check_target_input(target)          PutTargets: raises InvalidTargetInput with AWS's message
    target_input(event, input=..., input_path=..., input_transformer=...,
                 rule_arn=..., rule_name=..., ingestion_time=...) -> str   the text delivered

Where the behaviour comes from
------------------------------
The user guide (eb-transform-target-input.md, awsdocs/amazon-eventbridge-user-guide) and the
answers AWS recorded in localstack's AWS-validated tests
(tests/aws/services/events/test_events_inputs.py and its .snapshot.json, recorded 2024-05/06):

* No input option: the whole event, as minified JSON. ``Input``: that text, verbatim; it must
  be JSON (a scalar is fine): otherwise PutTargets answers "JSON syntax error in input for
  target <id>: [Source: (String)"env:dev"; line: 1, column: 4]" (AWS's answer quoted in
  aws/aws-cli#6711; the column is Jackson's, emulated: after the unreadable token).
* ``InputPath``: the JSON of what the path selects. ``$.detail.payload.sf_id`` holding ``baz``
  delivered ``"baz"`` with its quotes (recorded ``test_put_events_with_input_path_max_level_depth``).
* ``InputTransformer``: ``InputPathsMap`` names values of the event by JSON path (at most 100,
  keys ``[A-Za-z0-9_-]+``: both held by the botocore model, so the gateway refuses the rest);
  ``InputTemplate`` uses them as ``<name>``, with the predefined ``<aws.events.rule-arn>``,
  ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>``, ``<aws.events.event>`` (the
  event without its detail, ``detail-type`` spelled ``detailType``: recorded) and
  ``<aws.events.event.json>`` (the whole event). Quoting, as recorded and documented:

  - a placeholder *inside* a JSON string (``"instance <instance> is in <state>"``) is replaced
    by the value's text, not escaped ("EventBridge doesn't escape values extracted by Input
    Path"); the template's own quotes stay, so the target receives ``"instance i-1 is in
    RUNNING"`` quotes included (recorded ``..._input_template_string``);
  - a placeholder *outside* quotes in a JSON template (``{"state": <state>}``) is replaced by
    the value's JSON: a string gets its quotes (recorded ``..._input_template_json``);
  - a path that selects nothing gives the empty text inside quotes and ``""`` outside (both
    recorded as ``custom-variables-not-match-all``);
  - JSON output is minified ("The JSON that is passed to the target is minified").

  A template that is not JSON even with its placeholders filled (``<instance> is in state
  <status>``, the API reference's first example) is delivered as the text it makes, each
  value's text in its placeholder's place (sagewatch's reading: quoting a value only makes
  sense inside JSON).
* PutTargets refuses (ValidationException): two of Input/InputPath/InputTransformer ("Only one
  of Input, InputPath, or InputTransformer must be provided for target <id>.", recorded); a
  placeholder the map does not define ("InputTemplate for target <id> contains invalid
  placeholder <name>.", recorded); ``<aws.events.event.json>`` in a template that is not a JSON
  object ("InputTemplate for target <id> contains placeholder aws.events.event.json valid only
  for JSON template."), and a path that is not EventBridge's JSON path ("InputPath for target
  <id> is invalid.", for InputPath and every InputPathsMap value alike) — the last two as
  measured against us-east-1 on 2026-09-07 by a public CDK preflight rule set
  (code corpus, rules pf-events-input-transformer-json-var and pf-events-input-path-jsonpath).
  ``<aws.events.event>`` is held to the same rule as ``.json``: the guide says of both "can
  only be used as a value for a JSON field, as its contents are not escaped".

JSON paths are EventBridge's subset ("dot notation, dashes, underscores, alphanumeric
characters, array indices, wildcards (*), forward slashes"): ``$``, ``.name``, ``.*``, ``[n]``,
``[*]``; quoted bracket notation is refused. A path with a wildcard selects the list of what
it matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"
PREDEFINED = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
# "Can only be used as a value for a JSON field, as its contents are not escaped" (user guide).
JSON_TEMPLATE_ONLY = (EVENT, EVENT_JSON)

# What can be a placeholder: a map key ([A-Za-z0-9_-]+, the model's pattern) or a predefined
# name (dots). Any other "<...>" is template text.
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_STEP = re.compile(r"\.(\*|[^.\[\]'\"\s]+)|\[(\d+|\*)\]")

# Jackson quotes at most this much of the source in its location ("[Source: (String)"...")
# before "[truncated N chars]" (jackson-core ErrorReportConfiguration, 500 by default).
_SOURCE_QUOTED = 500


class InvalidTargetInput(ValueError):
    """A target's input options PutTargets refuses; ``str()`` is AWS's message."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # what a path that selects nothing gives


def compact(value: object) -> str:
    """JSON as EventBridge sends it: minified, non-ASCII characters as they are."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- JSON paths ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonPath:
    steps: tuple[tuple[str, object], ...]  # ("key", name) | ("index", n) | ("all", None)
    text: str

    @property
    def selects_many(self) -> bool:
        return any(kind == "all" for kind, _ in self.steps)

    def select(self, document: object) -> object:
        """The value the path selects (MISSING if none); with a wildcard, the list of matches."""
        nodes = [document]
        for kind, arg in self.steps:
            found = []
            for node in nodes:
                if kind == "key":
                    if isinstance(node, dict) and arg in node:
                        found.append(node[arg])
                elif kind == "index":
                    if isinstance(node, list) and arg < len(node):
                        found.append(node[arg])
                elif isinstance(node, dict):
                    found.extend(node.values())
                elif isinstance(node, list):
                    found.extend(node)
            nodes = found
        if self.selects_many:
            return nodes
        return nodes[0] if nodes else MISSING


def compile_path(text: str) -> JsonPath | None:
    """EventBridge's JSON path, or None when it is not one."""
    if not isinstance(text, str) or not text.startswith("$"):
        return None
    steps, position = [], 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            return None
        name, index = match.groups()
        if name == "*" or index == "*":
            steps.append(("all", None))
        elif name is not None:
            steps.append(("key", name))
        else:
            steps.append(("index", int(index)))
        position = match.end()
    return JsonPath(tuple(steps), text)


# -- checks at PutTargets -------------------------------------------------------------------------------


def check_target_input(target: dict) -> None:
    """Raise InvalidTargetInput (AWS's message) if PutTargets must refuse this target's input
    options. ``target`` is the PutTargets entry (Id, Input, InputPath, InputTransformer...)."""
    target_id = target.get("Id")
    given = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name) is not None]
    if len(given) > 1:
        raise InvalidTargetInput(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}.")
    if target.get("Input") is not None:
        _check_json_input(target_id, target["Input"])
    if target.get("InputPath") is not None and compile_path(target["InputPath"]) is None:
        raise InvalidTargetInput(f"InputPath for target {target_id} is invalid.")
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        if any(compile_path(path) is None for path in paths.values()):
            raise InvalidTargetInput(f"InputPath for target {target_id} is invalid.")
        template = transformer.get("InputTemplate") or ""
        for name in _PLACEHOLDER.findall(template):
            if name not in paths and name not in PREDEFINED:
                raise InvalidTargetInput(
                    f"InputTemplate for target {target_id} contains invalid placeholder {name}.")
        if not template.strip().startswith("{"):
            for name in JSON_TEMPLATE_ONLY:
                if f"<{name}>" in template:
                    raise InvalidTargetInput(
                        f"InputTemplate for target {target_id} contains placeholder {name} "
                        f"valid only for JSON template.")


def _check_json_input(target_id: str, text: str) -> None:
    try:
        json.loads(text)
    except (ValueError, RecursionError) as error:
        line = getattr(error, "lineno", 1)
        column = getattr(error, "colno", 1)
        position = getattr(error, "pos", 0)
        # Jackson reads an unquoted word whole before it complains: its column is after it.
        word = re.match(r"[A-Za-z0-9_.+\-]+", text[position:]) if position < len(text) else None
        if word:
            column += len(word.group())
        source = text if len(text) <= _SOURCE_QUOTED else (
            f"{text[:_SOURCE_QUOTED]}\"[truncated {len(text) - _SOURCE_QUOTED} chars]")
        closing = "" if len(text) > _SOURCE_QUOTED else "\""
        raise InvalidTargetInput(
            f"JSON syntax error in input for target {target_id}: "
            f"[Source: (String)\"{source}{closing}; line: {line}, column: {column}]") from None


# -- what the target receives ---------------------------------------------------------------------------


def target_input(event: dict, *, input: str | None = None, input_path: str | None = None,
                 input_transformer: dict | None = None, rule_arn: str = "", rule_name: str = "",
                 ingestion_time: str = "") -> str:
    """The text a target receives for ``event`` (already checked by check_target_input)."""
    if input is not None:
        return input
    if input_path is not None:
        path = compile_path(input_path)
        value = path.select(event) if path else MISSING
        # A path that selects nothing: the empty text, as a transformer's variable gets
        # (sagewatch's choice; AWS's answer for InputPath is not recorded).
        return "" if value is MISSING else compact(value)
    if input_transformer is not None:
        values: dict[str, object] = {}
        for name, text in (input_transformer.get("InputPathsMap") or {}).items():
            path = compile_path(text)
            values[name] = path.select(event) if path else MISSING
        values.update({
            RULE_ARN: rule_arn,
            RULE_NAME: rule_name,
            INGESTION_TIME: ingestion_time,
            EVENT: event_without_detail(event),
            EVENT_JSON: event,
        })
        return render_template(input_transformer.get("InputTemplate") or "", values)
    return compact(event)


def event_without_detail(event: dict) -> dict:
    """``<aws.events.event>``: the event less its detail, ``detail-type`` as ``detailType``, in
    the order AWS recorded (test_input_transformer_predefined_variables)."""
    order = ("id", "account", "detail-type", "time", "source", "region", "resources", "version")
    head = {("detailType" if key == "detail-type" else key): event[key] for key in order if key in event}
    for key, value in event.items():
        if key != "detail" and key not in order:
            head[key] = value
    return head


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    quoted: bool  # inside a JSON string of the template


def _parse_template(template: str) -> list[str | _Slot]:
    """The template as literal text and placeholders, each placeholder knowing whether it sits
    inside a JSON string (an unescaped ``"`` opens or closes one)."""
    parts: list[str | _Slot] = []
    in_string, literal_start, position = False, 0, 0
    while position < len(template):
        char = template[position]
        if char == "\\" and in_string:
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match:
                parts.append(template[literal_start:position])
                parts.append(_Slot(match.group(1), in_string))
                position = literal_start = match.end()
                continue
        position += 1
    parts.append(template[literal_start:])
    return parts


def render_template(template: str, values: dict[str, object]) -> str:
    """Fill an InputTemplate's placeholders from ``values`` (MISSING: selected nothing)."""
    parts = _parse_template(template)
    # Is it JSON? Try it with every value replaced by something neutral.
    probe = "".join(part if isinstance(part, str) else ("" if part.quoted else "null") for part in parts)
    try:
        json.loads(probe)
        is_json = True
    except ValueError:
        is_json = False
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        if part.name not in values:
            out.append(f"<{part.name}>")  # not a placeholder of this transformer: template text
            continue
        value = values[part.name]
        if is_json and not part.quoted:
            out.append('""' if value is MISSING else compact(value))
        elif value is MISSING:
            out.append("")
        elif isinstance(value, str):
            out.append(value)
        else:
            out.append(compact(value))
    text = "".join(out)
    if is_json:
        try:
            return compact(json.loads(text))
        except ValueError:
            return text  # a value broke the JSON (AWS does not escape quoted values): as made
    return text
