namespace Reasoner.Core.Tasks;

/// <summary>
/// ProntoQA-style deduction over made-up categories, so nothing can be answered from world knowledge:
/// "Alex is a wumpus. Every wumpus is a yumpus. Every yumpus is not bright. Is Alex bright?". The gold
/// solution applies one rule per line and ends "The answer is yes." or "The answer is no.".
/// </summary>
internal sealed class LogicGenerator(LogicOptions options) : IProblemGenerator
{
    internal static IReadOnlyList<string> CategoryNames => Categories;

    internal static IReadOnlyList<string> PropertyNames => Properties;

    private static readonly string[] Categories =
    [
        "wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus", "jompus", "gorpus",
        "lempus", "sterpus", "grimpus", "lorpus", "brimpus", "shumpus", "kerpus", "fompus", "bompus", "gumpus",
    ];
    private static readonly string[] Properties = ["bright", "cold", "red", "happy", "small", "fast", "wooden", "shy", "loud", "sour", "kind", "big"];
    private static readonly string[] Names = ["Alex", "Sam", "Max", "Rex", "Fae", "Wren", "Polly", "Sally", "Stella", "Jo"];

    // Distractors are drawn at random and kept only when the world stays consistent and the answer's
    // derivation stays exactly as long; this bounds the retries before starting the problem over.
    private const int DistractorAttempts = 200;

    public GeneratedProblem Next(TaskRandom random)
    {
        while (true)
            if (TryGenerate(random) is { } problem) return problem;
    }

    private GeneratedProblem? TryGenerate(TaskRandom random)
    {
        var hops = random.Between(options.MinHops, options.MaxHops);
        var categories = Categories.ToList();
        random.Shuffle(categories);
        var chain = categories[..hops];
        var unused = new Queue<string>(categories[hops..]);
        var person = random.Pick(Names);
        var property = random.Pick(Properties);
        var holds = random.Chance(0.5);

        var world = new LogicWorld();
        world.Add(new IsA(person, chain[0]));
        for (var i = 0; i + 1 < hops; i++) world.Add(new Every(chain[i], chain[i + 1]));
        world.Add(new EveryHas(chain[^1], property, holds));

        var wanted = world.Statements.Count + options.Distractors;
        for (var attempt = 0; world.Statements.Count < wanted; attempt++)
        {
            if (attempt == DistractorAttempts) return null;
            var isFirst = options.Contested && world.Statements.Count == hops + 1;
            var candidate = isFirst
                ? new EveryHas(unused.Peek(), property, !holds)
                : Distractor(random, world, person, property, unused);
            if (candidate is null || !world.TryAdd(candidate, property, chain)) continue;
            if (unused.Count > 0 && candidate.Categories().Contains(unused.Peek())) unused.Dequeue();
        }

        var statements = world.Statements.Select(s => s.Sentence()).ToList();
        random.Shuffle(statements);
        var ask = $"Is {person} {property}?";
        var steps = new List<string>();
        for (var i = 0; i + 1 < hops; i++)
            steps.Add($"{person} is a {chain[i]}. Every {chain[i]} is a {chain[i + 1]}. So {person} is a {chain[i + 1]}.");
        var not = holds ? "" : "not ";
        steps.Add($"{person} is a {chain[^1]}. Every {chain[^1]} is {not}{property}. So {person} is {not}{property}.");
        steps.Add($"The answer is {(holds ? "yes" : "no")}.");

        var canonical = string.Join(' ', statements.Order(StringComparer.Ordinal)) + " " + ask;
        return new GeneratedProblem(string.Join(' ', statements) + " " + ask, canonical, holds ? "yes" : "no", steps);
    }

    /// <summary>
    /// A candidate irrelevant statement: another person's category, a branch from a category into a fresh one,
    /// a rule between two categories already used, or another property of some category. The world keeps it
    /// only if it changes neither the answer nor the gold chain.
    /// </summary>
    private static LogicStatement? Distractor(TaskRandom random, LogicWorld world, string person, string property, Queue<string> unused)
    {
        var used = world.Categories;
        return random.Between(0, 3) switch
        {
            0 => new IsA(random.Pick(Names.Where(n => n != person).ToList()), random.Pick(used)),
            1 when unused.Count > 0 => new Every(random.Pick(used), unused.Peek()),
            2 => new Every(random.Pick(used), random.Pick(used)),
            3 => new EveryHas(random.Pick(used), random.Pick(Properties.Where(p => p != property).ToList()), random.Chance(0.5)),
            _ => null,
        };
    }
}
