"""What a rule's target receives (services/events/input_transformer.py).

The expected texts are AWS's recorded answers where one exists: localstack's AWS-validated
tests/aws/services/events/test_events_inputs.py and its snapshot (recorded 2024-05 and 2024-06:
the SQS message bodies EventBridge delivered), and the examples of the user guide
(eb-transform-target-input.md); the rest follow the module's documented reading."""

import json

import pytest

from sagewatch.services.events.input_transformer import (
    MISSING, InvalidTargetInput, check_target_input, compile_path, render_template, target_input,
)

# The event of the recorded tests (tests/aws/services/events/test_events.py EVENT_DETAIL).
EVENT = {
    "version": "0", "id": "1b7e5a7e-0000-4000-8000-000000000001", "detail-type": "core.update-account-command",
    "source": "core.update-account-command", "account": "111111111111", "time": "2024-06-11T08:33:10Z",
    "region": "us-east-1", "resources": [],
    "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}},
}
RULE_ARN = "arn:aws:events:us-east-1:111111111111:rule/bus/rule-1"
CONTEXT = dict(rule_arn=RULE_ARN, rule_name="rule-1", ingestion_time="2024-06-11T08:33:11Z")
PATHS = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.command"}
MISSING_PATHS = {**PATHS, "command": "$.detail.notinmessage"}


def transformed(template: str, paths: dict | None = None) -> str:
    transformer = {"InputTemplate": template}
    if paths is not None:
        transformer["InputPathsMap"] = paths
    return target_input(EVENT, input_transformer=transformer, **CONTEXT)


# -- recorded answers -------------------------------------------------------------------------------------


def test_no_option_sends_the_whole_event_minified():
    text = target_input(EVENT, **CONTEXT)
    assert json.loads(text) == EVENT and " " not in text.replace("core.update-account-command", "")


def test_input_path():
    assert json.loads(target_input(EVENT, input_path="$.detail", **CONTEXT)) == EVENT["detail"]
    assert json.loads(target_input(EVENT, input_path="$.detail.payload", **CONTEXT)) == EVENT["detail"]["payload"]
    # A string is delivered as JSON, quotes included: Body "\"baz\"".
    assert target_input(EVENT, input_path="$.detail.payload.sf_id", **CONTEXT) == '"baz"'


def test_string_template_keeps_its_quotes_and_does_not_quote_values():
    template = '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'
    assert transformed(template, PATHS) == (
        '"Event of core.update-account-command type, at time 2024-06-11T08:33:10Z, '
        'info extracted from detail update-account"')
    # A path that selects nothing leaves the empty text.
    assert transformed(template, MISSING_PATHS) == (
        '"Event of core.update-account-command type, at time 2024-06-11T08:33:10Z, info extracted from detail "')
    special = '"{[/Check with special starting characters for event of <detail-type> type"'
    assert transformed(special, PATHS) == '"{[/Check with special starting characters for event of ' \
                                          'core.update-account-command type"'


def test_json_template_quotes_string_values_and_minifies():
    template = '{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}'
    assert transformed(template, PATHS) == (
        '{"detailType":"core.update-account-command","time":"2024-06-11T08:33:10Z","command":"update-account"}')
    # Recorded: the missing value is "" outside quotes too.
    assert json.loads(transformed(template, MISSING_PATHS))["command"] == ""


def test_predefined_variables():
    text = transformed('"Message containing all pre defined variables <aws.events.rule-arn> '
                       '<aws.events.rule-name> <aws.events.event.ingestion-time>"')
    assert text == f'"Message containing all pre defined variables {RULE_ARN} rule-1 2024-06-11T08:33:11Z"'
    body = json.loads(transformed('{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'))
    assert body["originalEventJson"] == EVENT
    assert list(body["originalEvent"]) == ["id", "account", "detailType", "time", "source", "region",
                                           "resources", "version"]
    assert body["originalEvent"]["detailType"] == "core.update-account-command"


def test_put_targets_refusals_in_aws_words():
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "t1", "Arn": "x", "InputPath": "$.detail",
                            "InputTransformer": {"InputTemplate": '"x"'}})
    assert str(error.value) == "Only one of Input, InputPath, or InputTransformer must be provided for target t1."
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "t1", "InputTransformer": {
            "InputPathsMap": PATHS, "InputTemplate": '"Event of <detail-type> type, with not defined key <notdefinedkey>"'}})
    assert str(error.value) == "InputTemplate for target t1 contains invalid placeholder notdefinedkey."
    # aws/aws-cli#6711, verbatim.
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "1", "Input": "env:dev"})
    assert str(error.value) == 'JSON syntax error in input for target 1: [Source: (String)"env:dev"; line: 1, column: 4]'


# -- the user guide's examples -------------------------------------------------------------------------


GUIDE_EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
GUIDE_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}


@pytest.mark.parametrize("template, expected", [
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
    ('{\n  "instance" : <instance>,\n  "state": <state>\n}', '{"instance":"i-0123456789","state":"RUNNING"}'),
    ('{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
     '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}'),
    ('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
     '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}'),
    ('"<aws.events.rule-name> triggered"', '"rule-1 triggered"'),
])
def test_guide_examples(template, expected):
    text = target_input(GUIDE_EVENT, input_transformer={"InputPathsMap": GUIDE_PATHS, "InputTemplate": template},
                        **CONTEXT)
    assert text == expected


# -- sagewatch's readings ----------------------------------------------------------------------------------


def test_a_template_that_is_not_json_is_text():
    assert render_template("<instance> is in state <state>", {"instance": "i-1", "state": "RUNNING"}) == \
        "i-1 is in state RUNNING"
    assert render_template("count: <n>", {"n": 3}) == "count: 3"


def test_values_of_every_type_outside_and_inside_quotes():
    values = {"n": 1.5, "b": True, "z": None, "o": {"a": [1]}, "s": 'say "hi"'}
    assert render_template('{"n": <n>, "b": <b>, "z": <z>, "o": <o>, "s": <s>}', values) == \
        '{"n":1.5,"b":true,"z":null,"o":{"a":[1]},"s":"say \\"hi\\""}'
    # Inside quotes nothing is escaped: a value with quotes breaks the JSON, which is sent as made.
    assert render_template('{"s": "<s>"}', values) == '{"s": "say "hi""}'
    assert render_template('{"n": "<n> items"}', values) == '{"n":"1.5 items"}'


def test_text_in_angle_brackets_that_is_no_placeholder_stays():
    assert render_template('"a <b c> d"', {}) == '"a <b c> d"'


def test_json_paths():
    assert compile_path("$").select(EVENT) == EVENT
    assert compile_path("$.resources[0]").select(GUIDE_EVENT) == GUIDE_EVENT["resources"][0]
    assert compile_path("$.detail.*").select(GUIDE_EVENT) == ["i-0123456789", "RUNNING"]
    assert compile_path("$.resources[*]").select(GUIDE_EVENT) == GUIDE_EVENT["resources"]
    assert compile_path("$.detail.missing").select(EVENT) is MISSING  # not an error
    for invalid in ["detail", "$.", "$.detail['command']", '$["detail"]', "$..detail", "$.a b", ""]:
        assert compile_path(invalid) is None, invalid


def test_path_refusals():
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "t", "InputPath": "detail.command"})
    assert str(error.value) == "InputPath for target t is invalid."
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": {"k": "$.detail['k']"},
                                                              "InputTemplate": '"<k>"'}})
    assert str(error.value) == "InputPath for target t is invalid."


@pytest.mark.parametrize("template", ['[<aws.events.event.json>]', '"<aws.events.event.json>"', '"<aws.events.event>"'])
def test_whole_event_placeholders_need_a_json_object_template(template):
    with pytest.raises(InvalidTargetInput) as error:
        check_target_input({"Id": "t1", "InputTransformer": {"InputTemplate": template}})
    name = template.strip('[]"<>')
    assert str(error.value) == f"InputTemplate for target t1 contains placeholder {name} valid only for JSON template."


def test_accepted_inputs():
    for target in [
        {"Id": "t", "Input": '"hello"'}, {"Id": "t", "Input": "42"}, {"Id": "t", "Input": '{"a": 1}'},
        {"Id": "t", "InputPath": "$"}, {"Id": "t", "InputPath": "$.detail.a[0]"},
        {"Id": "t", "InputTransformer": {"InputTemplate": '{"e": <aws.events.event.json>}'}},
        {"Id": "t", "InputTransformer": {"InputPathsMap": {"k": "$.detail.k"}, "InputTemplate": '"event was <k> today"'}},
    ]:
        check_target_input(target)
