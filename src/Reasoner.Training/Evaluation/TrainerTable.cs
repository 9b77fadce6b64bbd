using System.Text.RegularExpressions;
using Reasoner.Core.Statistics;

namespace Reasoner.Training.Evaluation;

/// <summary>One trainer on one task: its seeds' greedy accuracies and its paired difference to a baseline.</summary>
/// <param name="Difference">Mean over problems of (the seeds' mean correctness − the baseline's), with a paired bootstrap 95 % interval over problems.</param>
public sealed record TrainerRow(string Trainer, string Task, int Seeds, int Problems, double MeanGreedy, double MinGreedy, double MaxGreedy,
    double Difference, Interval DifferenceInterval)
{
    /// <summary>"Beats" in the results table's sense: the paired difference's 95 % interval lies above zero.</summary>
    public bool Beats => DifferenceInterval.Low > 0;

    /// <summary>The interval lies below zero.</summary>
    public bool Loses => DifferenceInterval.High < 0;
}

/// <summary>
/// The results table's arithmetic: saved evaluations (<see cref="EvalReport"/>) of one baseline and of trainers run with
/// several seeds, grouped by task; for each trainer the mean and spread of greedy accuracy over its seeds, and the paired
/// difference to the baseline on the same problems. Pairing is per problem: a problem's value is the share of a trainer's
/// seeds that got it right minus whether the baseline did, so seeds are averaged before problems are resampled.
/// </summary>
public static partial class TrainerTable
{
    /// <summary>The trainer and seed a model folder's name says: <c>dpo-s2</c> is dpo, seed 2; a name without <c>-sN</c> is seed 0 of itself.</summary>
    public static (string Trainer, int Seed) NameOf(string modelPath)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelPath));
        var m = SeedSuffix().Match(name);
        return m.Success ? (m.Groups[1].Value, int.Parse(m.Groups[2].Value)) : (name, 0);
    }

    /// <summary>Rows for every trainer but <paramref name="baseline"/>, per task, against the baseline's report of that task.</summary>
    public static IReadOnlyList<TrainerRow> Against(IReadOnlyList<EvalReport> reports, string baseline, int resamples = 2000, int seed = 1234)
    {
        var rows = new List<TrainerRow>();
        foreach (var task in reports.GroupBy(r => r.Run.Task).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var byTrainer = task.GroupBy(r => NameOf(r.Run.Model).Trainer).ToDictionary(g => g.Key, g => g.ToList());
            if (!byTrainer.TryGetValue(baseline, out var bases))
                throw new ArgumentException($"no evaluation of {baseline} on {task.Key}: the baseline needs one per task");
            var reference = Correctness(bases);
            foreach (var (trainer, seeds) in byTrainer.Where(t => t.Key != baseline).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                if (seeds.Select(s => NameOf(s.Run.Model).Seed).Distinct().Count() != seeds.Count)
                    throw new ArgumentException($"{trainer} on {task.Key}: two evaluations of one seed ({string.Join(", ", seeds.Select(s => s.Run.Model))})");
                var mine = Correctness(seeds);
                var shared = mine.Keys.Where(reference.ContainsKey).ToList();
                if (shared.Count == 0) throw new ArgumentException($"{trainer} and {baseline} share no {task.Key} problem");
                var differences = shared.Select(p => mine[p] - reference[p]).ToList();
                var greedy = seeds.Select(s => s.Summary.Greedy.Value).ToList();
                rows.Add(new TrainerRow(trainer, task.Key, seeds.Count, shared.Count, greedy.Average(), greedy.Min(), greedy.Max(),
                    differences.Average(), Intervals.BootstrapMean(differences, resamples, seed)));
            }
        }
        return rows;
    }

    /// <summary>
    /// The trainer with the highest mean greedy accuracy, averaged over the tasks every row's trainer was evaluated on
    /// (issue 14's "best trainer", the one iterated beside step-DPO); ties go to the first name in ordinal order.
    /// </summary>
    public static string Best(IReadOnlyList<TrainerRow> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("no trainer rows to choose from");
        return rows.GroupBy(r => r.Trainer)
            .Select(g => (Trainer: g.Key, Mean: g.Average(r => r.MeanGreedy)))
            .OrderByDescending(t => t.Mean).ThenBy(t => t.Trainer, StringComparer.Ordinal)
            .First().Trainer;
    }

    /// <summary>Per problem, the share of the reports (seeds) whose greedy answer is right, over the problems every report has.</summary>
    static Dictionary<string, double> Correctness(IReadOnlyList<EvalReport> seeds)
    {
        var byId = seeds.Select(s => s.Problems.GroupBy(p => p.ProblemId).ToDictionary(g => g.Key, g => g.First().GreedyCorrect)).ToList();
        var common = byId.Select(d => d.Keys.ToHashSet()).Aggregate((a, b) => { a.IntersectWith(b); return a; });
        return common.ToDictionary(id => id, id => byId.Average(d => d[id] ? 1.0 : 0));
    }

    [GeneratedRegex(@"^(.+)-s(\d+)$")]
    private static partial Regex SeedSuffix();
}
