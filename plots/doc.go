// Package plots draws the figures and tables of the paper's reproduction
// (Seifi & Niaki 2023, Figures 2–5 and Tables 3–4) with gonum/plot.
//
// It never imports GoMLX, the cifar packages, or hpo: inputs are plain types
// that notebooks and scripts can fill from any source (the hpo journal, CSV).
//
// # Input
//
// A Curve is the best validation accuracy found so far by one HPO run, as a
// step function of elapsed wall-clock seconds: Points (T, V), sorted by T; the
// value V holds from T until the next point; before the first point the run
// has no value yet. BestSoFar builds one from raw (time, accuracy)
// observations. A Run tags a curve with its algorithm, Arm (SGD: learning rate
// and momentum searched; HGD: adapted by hypergradients) and seed; an
// Experiment groups the runs of one data set with the budget T.
//
// # Statistics
//
// Curve.At evaluates a curve, Resample evaluates K curves on a common grid,
// Summarize gives the mean and the two-sided Student-t confidence interval
// (K−1 degrees of freedom, quantile from gonum's distuv.StudentsT; 95% unless
// configured) and Aggregate does both over a grid, giving a Band.
//
// Seeds that have not started yet: at a time before a seed's first point that
// seed has no value and is EXCLUDED; the mean and interval are over the N
// seeds that have a value, and N is reported (Stat.N beside Stat.Total,
// Band.N, "[n=k/K]" in tables). With one seed there is no interval (its half
// width is NaN and no band is drawn); with none there is no mean. Curves can
// demand more seeds before drawing a mean (CurvesConfig.MinSeeds).
//
// Paired comparisons: seed k of both arms is a pair (the runs share their
// architecture draws and weight initializations). Experiment.Pairs gives the
// per-seed values of two arms at a time; ComparePaired the mean of the
// per-seed differences treatment−baseline (in accuracy, ×100 points) with its
// Student-t interval, the mean per-seed log ratio (Paired.GeoGain: the
// geometric-mean gain), the paired t-test of the differences (TTest) and
// the Wilcoxon signed-rank test (Wilcoxon: zero differences dropped,
// midranks for ties, exact p by dynamic programming over rank sums for up
// to WilcoxonExactMax = 25 non-zero differences, normal approximation with
// tie-corrected variance above), and the smallest difference the pairs
// could detect with 80% power (DetectableDifference). Holm adjusts a
// family of p-values (Holm's step-down procedure). CountLeads counts the
// cells (algorithm × checkpoint) and the distinct comparisons in which the
// treatment's mean leads, with a Clopper–Pearson interval (ClopperPearson)
// of the share — the paper's "88.3% of cases" is 53 of 60 cells over two
// data sets. Figures mark significance only with MinPairs pairs or more.
//
// # Figures
//
//   - Curves: the paper's Figures 2 and 3. One panel per algorithm (the
//     paper's order ASHA, AHB, Genetic, HyperBand, PBT, PB2; see
//     PaperAlgorithms), shared axis ranges, the mean best accuracy over time
//     of HGD (solid blue) and SGD (dashed orange), each with a translucent
//     confidence band. By default the mean is computed at every breakpoint
//     of the curves, so the drawn staircase is the exact mean of the step
//     functions, not an interpolation.
//     Each panel's title gives HGD's mean paired difference over SGD at the
//     end of the axis in accuracy points and its paired-t p-value
//     (CurvePanel.Heading; * p < 0.05; with fewer than MinPairs pairs, the
//     number of pairs instead).
//   - Bars: the paper's Figures 4 and 5. One panel per algorithm; at each
//     checkpoint (default 1/6, …, 5/6 of the budget: the paper's 500, …,
//     2500 s of 3000 s) a group of bars, HGD beside SGD, with the confidence
//     interval as error bars, clipped to [0, 1]. Bars start at zero. A star
//     above a group marks a paired test of the differences (seed k of both
//     arms is a pair; t-test by default, BarsConfig.Test) with p < 0.05, two
//     stars p < 0.01, given at least MinPairs pairs (BarPanel.Marks).
//   - Trajectories: α (learning rate) and γ (momentum) of several HGD trials
//     over steps or time, two panels.
//
// Each figure type embeds Figure and carries the values it plots (Panels,
// Bands, Stats), so they can be checked or reused. Figure.WritePNG,
// Figure.PNG (bytes, e.g. for gonbui.DisplayPNG in a GoNB notebook),
// Figure.WriteSVG, Figure.SVG and Figure.Save (by extension) render it;
// Figure.Draw draws onto any gonum/plot canvas. Sizes are configurable
// (Size; zero fields take each figure's documented default, DPI defaults to
// 96). Fonts are gonum/plot's embedded Liberation fonts; the SVG references
// them by name. The title and legend are drawn once, above the panels, so the
// legend never hides data.
//
// # Tables
//
// NewTable computes the paper's Tables 3 and 4: per algorithm the mean best
// accuracy (± CI over seeds) of each arm at the early checkpoint (default T/6,
// the paper's 500 s) and at T, the relative gain (HGD−SGD)/SGD, and over
// algorithms both the mean of the per-algorithm gains and the gain of the
// mean accuracies (ratio of means): the paper's descriptive format. With
// them come the paired comparisons (TableRow.EarlyPaired, FinalPaired), their
// p-values adjusted by Holm over the table's family (every algorithm at
// both checkpoints; Table.Family), a verdict (Table.Verdict), what the pairs
// could detect (Table.PowerSummary) and the leads (Table.LeadsSummary).
// Table.Markdown and Table.LaTeX render the descriptive table, then the
// paired comparison, a row per algorithm and checkpoint; the Table struct
// itself is the programmatic form. PaperTable3 and PaperTable4 hold the
// paper's numbers; PaperResults.Table turns them into a Table that can be
// printed beside ours (TableConfig.Reference).
//
// The paper's headline gains (+36.62% and +23.16% at 500 s, −1.10% and +8.43%
// at the end) are the mean of the per-algorithm gains, truncated to two
// decimals (the exact values are +36.6289%, +23.1655%, −1.1039%, +8.4344%);
// the ratio of means gives +28.02%, +19.53%, −1.17%, +8.43%. See
// PaperResults.Table.
package plots
