"""One spider per source; spider `name` == module name == the source's slug."""
