"""Network tools graders use to talk to learner programs; each records what it does into the check transcript."""
