from flashscalper.cli import app

app()
