"""The ``sagewatch`` command."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="sagewatch: a self-hosted CloudWatch for machine-learning jobs.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """sagewatch command line."""


@app.command()
def server(
    host: str = typer.Option(None, help="Address to listen on [default: 127.0.0.1]."),
    port: int = typer.Option(None, help="Port to listen on [default: 4599]."),
    data_dir: Path = typer.Option(None, help="Where the database and jobs live [default: ./sagewatch-data]."),
    region: str = typer.Option(None, help="Region written into ARNs [default: us-east-1]."),
    config: Path = typer.Option(None, help="A TOML configuration file (docs/jobs.md); also $SAGEWATCH_CONFIG."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    retention_sweep_seconds: float = typer.Option(
        None, help="How often events past their group's retention are deleted (tests shorten it)."),
) -> None:
    """Run the sagewatch server (the AWS APIs on one port) and the jobs it runs."""
    from .config import ConfigError, load_settings

    explicit = {key: value for key, value in dict(
        host=host, port=port, data_dir=data_dir, region=region,
        retention_sweep_seconds=retention_sweep_seconds).items() if value is not None}
    try:
        settings = load_settings(config, **explicit)
    except ConfigError as error:
        typer.echo(f"sagewatch: {error}", err=True)
        raise typer.Exit(2) from None
    host, port, region, data_dir = settings.host, settings.port, settings.region, settings.data_dir
    import uvicorn

    from .server import create_app

    application = create_app(settings)
    endpoint = f"http://{host}:{port}"
    typer.echo(
        f"sagewatch listening on {endpoint} (data in {data_dir})\n"
        f"Point boto3 and the aws CLI at it:\n"
        f"  export AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION={region} "
        f"AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n"
        f"  aws logs describe-log-groups",
        err=True,
    )
    # h11 writes header names as the application spells them (x-amzn-RequestId, as AWS does;
    # some clients compare case-sensitively); httptools lower-cases them. Its cost is per request,
    # not per byte: bulk requests run at the same rate (issue 8).
    uvicorn.run(application, host=host, port=port, log_level=log_level, access_log=False,
                http="h11")
