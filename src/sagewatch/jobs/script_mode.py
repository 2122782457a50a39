"""Run a script-mode user script the way the SageMaker training toolkit does, and on failure
write /opt/ml/output/failure the toolkit's way.

    <python> script_mode.py --failure-file F --command-text TEXT -- <program> [args...]

A ``.py`` program runs in this very interpreter, as ``python <program> args`` would run it
(``__main__``, ``sys.argv``, the script's directory first on ``sys.path``): one interpreter start,
not two, and the exception itself is at hand. Any other program runs as a child. Output is not
touched: it goes straight to the agent, like any instance's.

On a non-zero exit the failure file gets the toolkit's ExecuteUserScriptError text
(aws/sagemaker-training-toolkit ``errors.py`` _CalledProcessError.__str__):

    ExecuteUserScriptError:
    ExitCode 1
    ErrorMessage "ValueError: bad input"
    Command "/usr/bin/python3 train.py --epochs 4"

and the toolkit only writes it if the script did not write its own (``files.write_failure_file``);
on success it writes ``success`` beside it. The controller turns the file into FailureReason
(reference §3.1).

Standard library only, and run by path (not ``-m``): the configured Python need not have sagewatch
installed, and must start fast.
"""

import os
import sys

# subprocess and traceback are imported only where needed: each costs milliseconds of every
# script's start, and most scripts need neither.


def _write(path, text):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory)
    with open(path, "w") as file:
        file.write(text)


def write_failure(path, exit_code, error_message, command_text):
    if not path or os.path.exists(path):
        return  # the script's own failure description wins (toolkit files.write_failure_file)
    _write(path, 'ExecuteUserScriptError:\nExitCode %s\nErrorMessage "%s"\nCommand "%s"'
           % (exit_code, error_message, command_text))


def write_success(failure_path):
    if failure_path:
        _write(os.path.join(os.path.dirname(failure_path), "success"), "")


def _exit_code(error):
    """What the interpreter would exit with for this SystemExit (and what it prints)."""
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write("%s\n" % (code,))
    return 1


def run_python(program, args):
    """Returns (exit code, error message) of running ``program`` as __main__ here."""
    import types

    path = os.path.abspath(program)
    sys.argv = [program] + list(args)
    sys.path[0] = os.path.dirname(path)
    main = types.ModuleType("__main__")
    main.__file__ = program
    main.__cached__ = None
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    try:
        with open(path, "rb") as file:
            source = file.read()
        code = compile(source, program, "exec")
    except OSError as error:
        # What ``python missing.py`` says and exits with.
        message = "%s: can't open file %r: [Errno %s] %s" % (
            sys.executable, path, error.errno, error.strerror)
        sys.stderr.write(message + "\n")
        return 2, message
    except SyntaxError as error:
        import traceback

        traceback.print_exception(type(error), error, None)
        return 1, traceback.format_exception_only(type(error), error)[-1].strip()
    try:
        exec(code, main.__dict__)
    except SystemExit as error:
        code = _exit_code(error)
        return code, ""
    except BaseException as error:  # noqa: B902 - whatever the script raises ends it, as in python
        import traceback

        # Without this frame: the traceback python itself would print.
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        return 1, traceback.format_exception_only(type(error), error)[-1].strip()
    return 0, ""


def run_child(argv):
    import subprocess

    try:
        code = subprocess.call(argv)
        # A child ended by a signal: report it as a shell would (128 + the signal's number).
        return (128 - code if code < 0 else code), ""
    except OSError as error:
        sys.stderr.write("%s\n" % error)
        return 127, str(error)


def main(argv):
    failure, command_text = None, None
    while argv and argv[0] != "--":
        option = argv.pop(0)
        if option == "--failure-file":
            failure = argv.pop(0)
        elif option == "--command-text":
            command_text = argv.pop(0)
        else:
            sys.stderr.write("script_mode: unknown option %s\n" % option)
            return 2
    command = argv[1:]
    if not command:
        sys.stderr.write("script_mode: no program given\n")
        return 2
    program = command[0]
    if program.endswith(".py"):
        if command_text is None:
            command_text = " ".join([sys.executable] + command)
        code, message = run_python(program, command[1:])
    else:
        if command_text is None:
            command_text = " ".join(command)
        code, message = run_child(command)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    if code:
        write_failure(failure, code, message, command_text)
    else:
        write_success(failure)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
