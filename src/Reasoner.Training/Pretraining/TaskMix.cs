using System.Globalization;
using Reasoner.Core.Tasks;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// Which built-in tasks to train on and how often each is drawn: "arith,logic" (equally) or "arith:1,logic:3"
/// (a logic problem three times as often as an arith one). Weights let a task the model learns slowly get more
/// of a fixed budget.
/// </summary>
public sealed record TaskMix(IReadOnlyList<string> Names, IReadOnlyList<double> Weights)
{
    public static TaskMix Equal(IReadOnlyList<string> names) => new(names, names.Select(_ => 1.0).ToArray());

    public static TaskMix Parse(string text)
    {
        var names = new List<string>();
        var weights = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':', StringSplitOptions.TrimEntries);
            double weight = 1;
            if (pieces.Length > 2 || (pieces.Length == 2 && !double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out weight)))
                throw new ArgumentException($"'{part}' is not TASK or TASK:WEIGHT");
            names.Add(pieces[0]);
            weights.Add(weight);
        }
        var mix = new TaskMix(names, weights);
        mix.Validate();
        return mix;
    }

    /// <summary>"arith=0.25" per part: a weight per task (pretrain --solution-weight); a task given twice is an error.</summary>
    public static IReadOnlyDictionary<string, double> ParseWeights(IEnumerable<string> parts)
    {
        var weights = new Dictionary<string, double>();
        foreach (var part in parts)
        {
            var split = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (split.Length != 2 || split[0].Length == 0 || !double.TryParse(split[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
                throw new ArgumentException($"'{part}' is not TASK=WEIGHT (arith=0.25)");
            if (!weights.TryAdd(split[0], weight)) throw new ArgumentException($"the weight of '{split[0]}' is given twice");
        }
        return weights;
    }

    public void Validate()
    {
        if (Names.Count == 0 || Names.Any(t => !BuiltinTasks.Names.Contains(t)) || Names.Distinct().Count() != Names.Count)
            throw new ArgumentException($"tasks must be distinct names among {string.Join(", ", BuiltinTasks.Names)}, got '{this}'");
        if (Weights.Count != Names.Count || Weights.Any(w => !(w > 0) || double.IsInfinity(w)))
            throw new ArgumentException($"task weights must be positive numbers, got '{this}'");
    }

    /// <summary>The index of a task drawn with probability proportional to its weight.</summary>
    public int Draw(Random random) => WeightedDraw.Index(Weights, random);

    public override string ToString() =>
        string.Join(",", Names.Zip(Weights, (n, w) => w == 1 ? n : $"{n}:{w.ToString(CultureInfo.InvariantCulture)}"));
}
