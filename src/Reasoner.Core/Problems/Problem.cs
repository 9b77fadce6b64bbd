using MessagePack;

namespace Reasoner.Core.Problems;

/// <summary>How a reference answer is compared with a model's answer.</summary>
public enum AnswerKind
{
    /// <summary>A plain number (GSM8K, arith): commas, currency, units and percent are tolerated.</summary>
    Number = 0,
    /// <summary>A LaTeX math expression (MATH): fractions, radicals, tuples, intervals, algebraic equivalence.</summary>
    Math = 1,
    /// <summary>A multiple-choice letter (ARC, CommonsenseQA).</summary>
    Choice = 2,
    /// <summary>Yes or no (StrategyQA, logic).</summary>
    YesNo = 3,
}

[MessagePackObject]
public sealed record AnswerChoice(
    [property: Key(0)] string Label,
    [property: Key(1)] string Text);

/// <summary>
/// One problem to search over. <see cref="Family"/> names the task family (arith, logic, gsm8k, math,
/// arc, csqa, strategyqa), which picks the prompt.
/// </summary>
[MessagePackObject]
public sealed record Problem(
    [property: Key(0)] string Id,
    [property: Key(1)] string Family,
    [property: Key(2)] string Question,
    [property: Key(3)] string Answer,
    [property: Key(4)] AnswerKind Kind)
{
    /// <summary>Answer options for <see cref="AnswerKind.Choice"/> problems, in display order.</summary>
    [Key(5)] public IReadOnlyList<AnswerChoice> Choices { get; init; } = [];

    /// <summary>A reference solution split into steps, when the source has one.</summary>
    [Key(6)] public IReadOnlyList<string>? ReferenceSteps { get; init; }
}
