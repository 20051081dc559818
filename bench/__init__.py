"""`make bench`: build a dataset of a given size and measure orderdesk over real HTTP."""
