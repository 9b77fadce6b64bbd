using System.Collections.Concurrent;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Tasks;

/// <summary>
/// The synthetic tasks "arith" and "logic": endless deterministic problem streams per seed, with train and
/// test disjoint by construction. A problem's split is a stable hash of its canonical content, and each
/// stream drops the candidates of the other split, so no seed, difficulty or stream length can leak a test
/// problem into training.
/// </summary>
public static class BuiltinTasks
{
    public const string Arith = "arith";
    public const string Logic = "logic";
    public const int DefaultDifficulty = 2;

    /// <summary>Difficulties run from 1 to this.</summary>
    public const int MaxDifficulty = 3;

    /// <summary>
    /// Problems in each fixed test set: 1,000 tell a 4-point accuracy difference from noise where 200 could not. The sets
    /// extend the original 200-problem ones (the same stream, taken further), which stay their first 200.
    /// </summary>
    public const int TestSetSize = 1000;
    public const int TestSetSeed = 20250101;

    /// <summary>One problem in <see cref="TestShare"/> belongs to the test split.</summary>
    private const int TestShare = 5;

    // A stream that only finds duplicates and other-split problems has run out of problems for its settings.
    private const int MaxConsecutiveRejections = 100_000;

    private static readonly ConcurrentDictionary<(string Task, int Difficulty), IReadOnlyList<Problem>> TestSets = new();

    public static IReadOnlyList<string> Names { get; } = [Arith, Logic];

    /// <summary>
    /// Distinct problems of one split, in an order fixed by the seed. Ids are "&lt;task&gt;-&lt;hash&gt;" of the
    /// canonical content, so the same problem has the same id in every stream.
    /// </summary>
    public static IEnumerable<Problem> Generate(string task, Split split, int seed, int difficulty = DefaultDifficulty) => task switch
    {
        Arith => Generate(ArithOptions.ForDifficulty(difficulty), split, seed),
        Logic => Generate(LogicOptions.ForDifficulty(difficulty), split, seed),
        _ => throw UnknownTask(task),
    };

    public static IEnumerable<Problem> Generate(ArithOptions options, Split split, int seed)
    {
        options.Validate();
        return Stream(new ArithGenerator(options), Arith, AnswerKind.Number, split, seed);
    }

    public static IEnumerable<Problem> Generate(LogicOptions options, Split split, int seed)
    {
        options.Validate();
        return Stream(new LogicGenerator(options), Logic, AnswerKind.YesNo, split, seed);
    }

    /// <summary>The fixed evaluation set of a difficulty: the first <see cref="TestSetSize"/> test problems of the stream from <see cref="TestSetSeed"/>.</summary>
    public static IReadOnlyList<Problem> TestSet(string task, int difficulty = DefaultDifficulty) =>
        Names.Contains(task)
            ? TestSets.GetOrAdd((task, difficulty), key => Generate(key.Task, Split.Test, TestSetSeed, key.Difficulty).Take(TestSetSize).ToArray())
            : throw UnknownTask(task);

    /// <summary>
    /// The first <see cref="TestSetSize"/> test problems of the logic stream from <see cref="TestSetSeed"/> without the
    /// contested distractor (<see cref="LogicOptions.Contested"/>): the test set's counterpart for measuring whether a
    /// model reads a property rule where finding it by its property is enough. Not cached; not an evaluation set.
    /// </summary>
    public static IReadOnlyList<Problem> UncontestedLogicTestProblems(int difficulty = DefaultDifficulty) =>
        Generate(LogicOptions.ForDifficulty(difficulty) with { Contested = false }, Split.Test, TestSetSeed).Take(TestSetSize).ToArray();

    /// <summary>The split a problem with this canonical content belongs to.</summary>
    internal static Split SplitOf(ulong contentHash) => contentHash % TestShare == 0 ? Split.Test : Split.Train;

    private static IEnumerable<Problem> Stream(IProblemGenerator generator, string family, AnswerKind kind, Split split, int seed)
    {
        var random = new TaskRandom(seed);
        var seen = new HashSet<ulong>();
        for (var rejections = 0; ;)
        {
            var candidate = generator.Next(random);
            var hash = StableHash.Fnv1a64(candidate.CanonicalContent);
            if (SplitOf(hash) != split || !seen.Add(hash))
            {
                if (++rejections == MaxConsecutiveRejections)
                    throw new InvalidOperationException($"the {family} generator found no new {split} problem in {MaxConsecutiveRejections} tries; its settings allow too few problems");
                continue;
            }
            rejections = 0;
            yield return new Problem($"{family}-{hash:x16}", family, candidate.Question, candidate.Answer, kind)
            {
                ReferenceSteps = candidate.Steps,
            };
        }
    }

    private static ArgumentException UnknownTask(string task) =>
        new($"unknown built-in task '{task}'; expected one of {string.Join(", ", Names)}", nameof(task));
}
