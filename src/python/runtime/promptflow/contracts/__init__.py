"""promptflow's contracts: only the image type is provided."""
