using System.Globalization;
using Reasoner.Core.Tasks;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// Which difficulties training problems are drawn at, and how often: "2" (all at difficulty 2) or "1:1,2:3" (a quarter at
/// difficulty 1). Easier problems have shorter questions with fewer distractors, where finding a rule in the context is
/// an easier pattern to pick up, and the skill carries over to the harder ones.
/// </summary>
public sealed record DifficultyMix(IReadOnlyList<int> Levels, IReadOnlyList<double> Weights)
{
    public static DifficultyMix Single(int level) => new([level], [1.0]);

    /// <summary>The hardest level in the mix, what the model is said to be trained for.</summary>
    public int Hardest => Levels.Max();

    public static DifficultyMix Parse(string text)
    {
        var levels = new List<int>();
        var weights = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':', StringSplitOptions.TrimEntries);
            double weight = 1;
            if (pieces.Length > 2 || !int.TryParse(pieces[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var level)
                || (pieces.Length == 2 && !double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out weight)))
                throw new ArgumentException($"'{part}' is not LEVEL or LEVEL:WEIGHT");
            levels.Add(level);
            weights.Add(weight);
        }
        var mix = new DifficultyMix(levels, weights);
        mix.Validate();
        return mix;
    }

    /// <summary>"arith=1:3,2:1" per part: a task's own mix; a task given twice is an error.</summary>
    public static IReadOnlyDictionary<string, DifficultyMix> ParsePerTask(IEnumerable<string> parts)
    {
        var mixes = new Dictionary<string, DifficultyMix>();
        foreach (var part in parts)
        {
            var split = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (split.Length != 2 || split[0].Length == 0) throw new ArgumentException($"'{part}' is not TASK=MIX (arith=1:3,2:1)");
            if (!mixes.TryAdd(split[0], Parse(split[1]))) throw new ArgumentException($"the difficulty of '{split[0]}' is given twice");
        }
        return mixes;
    }

    public void Validate()
    {
        if (Levels.Count == 0 || Levels.Any(l => l is < 1 or > BuiltinTasks.MaxDifficulty) || Levels.Distinct().Count() != Levels.Count)
            throw new ArgumentException($"difficulties must be distinct levels from 1 to {BuiltinTasks.MaxDifficulty}, got '{this}'");
        if (Weights.Count != Levels.Count || Weights.Any(w => !(w > 0) || double.IsInfinity(w)))
            throw new ArgumentException($"difficulty weights must be positive numbers, got '{this}'");
    }

    /// <summary>The index of a level drawn with probability proportional to its weight; a single level draws nothing.</summary>
    public int Draw(Random random) => Levels.Count == 1 ? 0 : WeightedDraw.Index(Weights, random);

    public override string ToString() =>
        string.Join(",", Levels.Zip(Weights, (l, w) => w == 1 ? l.ToString(CultureInfo.InvariantCulture) : $"{l}:{w.ToString(CultureInfo.InvariantCulture)}"));
}
