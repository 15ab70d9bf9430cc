"""What every stage shares: the labels, user errors, atomic writes, paths and process state."""
