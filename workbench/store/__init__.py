"""What the workbench writes and keeps: file names, takes with sidecars and codes, history, contact sheets."""
