"""What the browser dashboard computes before a template renders it: the grid, the gantt chart,
dependency explanations, the trigger form, and the fragments live updates send. Pure helpers
over the models; the views in dagruns/views/ stay thin."""
