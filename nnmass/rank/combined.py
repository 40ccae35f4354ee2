"""Combined scores: several proxies ranked together over a population. numpy, no torch.

A combination is written ``a+b+c`` with proxy names (whitespace is ignored), or by
the name of a shipped combination; a single name is a plain proxy. It is not a proxy:
one network alone has no rank, so a combination has a value only relative to the
population being ranked or searched.

**The rule** is the rank aggregation of AZ-NAS (Lee & Ham, CVPR 2024), with no weights
and nothing fitted. Over a population of n networks, each member m ranks the networks
in ascending order of its score: the best (highest) score gets rank n, the worst rank 1.
The combined score of a network is

    sum over members m of log(rank_m / n)

so the network best on every member scores 0 and higher is better. Tied scores get
their average rank. An undefined member score (nan) ranks last: below every defined
score of that member, and the undefined networks share (average) the lowest ranks. A
network undefined on every member is undefined (nan) in the combination. A population
of one network has no ranks: a combination refuses it.

**Shipped combinations:**

- ``mass_size`` = ``nn_mass+params``: the paper's thesis as a score, "at a similar
  size, more NN-Mass means better accuracy". Both members are data-free and closed-form
  on a cell space (about 10 ms per network).
- ``ensemble``: the recommended combination of the project's proxies, chosen once on
  NAS-Bench-201 CIFAR-10 by the procedure below and never re-tuned on another space.

**How ``ensemble`` is chosen** (written down before any combination was computed):

- Data: the NB201 CIFAR-10 rows of the shipped sample ``nnmass/studies/nb201_naslib.csv``
  (725 networks), target ``val_accuracy`` (validation, not test, accuracy), scored by
  ``nnmass rank ... --proxies all`` at its defaults (seed 0, batch 16, Gaussian inputs).
- Selection set: a seeded half, the 363 rows that ``--limit 363 --seed 0`` keeps. The
  other 362 rows are never used to choose; the path is reported on them too, as a check
  of how much the selection overfits.
- Candidates: all 13 proxies, each as its registry orients it (higher is better by the
  proxy's own paper); none is sign-flipped or weighted.
- Forward selection: start empty; at each step add the candidate whose addition gives
  the highest Spearman rho between the combined score (aggregated over the selection
  set) and the target; exact ties go to the earlier proxy in the registry's order. Stop
  when the best addition raises rho by less than 0.005. The first step is the best
  single proxy.
- Why a mechanical rule: the single proxies' rho on this sample were already published
  in the README, so a member set picked by hand "one per kind of signal" would be picked
  knowing them; a rule fixed in advance leaves no such freedom. Why 0.005: rho's 95%
  interval on this sample is about ±0.02 to ±0.04, so a member that adds less than
  0.005 adds nothing the sample can see, only cost.
- ``tools/choose_ensemble.py`` runs the procedure on a score store and prints the path.
"""
