from convoca.cli import app

app(prog_name="convoca")
