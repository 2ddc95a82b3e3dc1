print("logbookd")
