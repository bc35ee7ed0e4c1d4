"""The CLSPD follow-up: what is known about actions (:mod:`.actions`), the action form
(:mod:`.forms`), the board, timeline and CSV views (:mod:`.views`) and the maps that
show actions (:mod:`.maps`)."""
