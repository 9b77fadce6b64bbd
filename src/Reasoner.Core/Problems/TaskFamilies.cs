namespace Reasoner.Core.Problems;

/// <summary>
/// One task family: where its problems come from, how answers are judged and which prompt solves it.
/// <see cref="DefaultData"/> is a path under the data folder (DataDir) for families read from files,
/// null for the built-in generators.
/// </summary>
public sealed record TaskFamily(string Name, string Description, AnswerKind Kind, string PromptFolder, string DataFormat, string? DefaultData)
{
    public bool IsBuiltin => DefaultData is null;
}

public static class TaskFamilies
{
    public static IReadOnlyList<TaskFamily> All { get; } =
    [
        new("arith", "built-in multi-step arithmetic word problems (1-6 steps)", AnswerKind.Number, "math", "builtin", null),
        new("logic", "built-in multi-hop deduction over facts and rules (1-5 hops), yes/no", AnswerKind.YesNo, "logic", "builtin", null),
        new("gsm8k", "GSM8K grade-school math word problems", AnswerKind.Number, "math", "gsm8k", "gsm8k/test.jsonl"),
        new("math", "MATH / MATH-500 competition problems, LaTeX answers", AnswerKind.Math, "math", "math", "math500/test.jsonl"),
        new("arc", "ARC-Challenge science multiple choice", AnswerKind.Choice, "commonsense", "arc", "arc_challenge/test.jsonl"),
        new("csqa", "CommonsenseQA multiple choice", AnswerKind.Choice, "commonsense", "csqa", "commonsenseqa/dev.jsonl"),
        new("strategyqa", "StrategyQA yes/no questions needing implicit steps (evaluation only)", AnswerKind.YesNo, "yesno", "strategyqa", "strategyqa/examples.jsonl"),
    ];

    public static TaskFamily Get(string name) =>
        All.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown task '{name}': expected one of {string.Join(", ", All.Select(f => f.Name))}");
}
