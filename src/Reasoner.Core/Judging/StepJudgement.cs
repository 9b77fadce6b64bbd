namespace Reasoner.Core.Judging;

/// <summary>A gold label for one step, read in the context of the steps before it.</summary>
public enum StepLabel
{
    /// <summary>A sound step that makes progress: true arithmetic that the reference chain computes; a deduction that follows.</summary>
    Valid,

    /// <summary>False arithmetic, a quantity or fact neither given nor derived, an unsupported deduction, or a malformed step.</summary>
    Invalid,

    /// <summary>Sound but no progress: a restatement of what is given or already derived.</summary>
    Neutral,

    /// <summary>A final-answer step whose answer matches the reference and was derived by the steps before it.</summary>
    Correct,

    /// <summary>A final-answer step whose answer does not match the reference.</summary>
    Incorrect,
}

/// <summary>A step's gold label and why.</summary>
public sealed record StepJudgement(StepLabel Label, string Reason)
{
    /// <summary>Nothing wrong with the step: valid, neutral, or a correct final answer.</summary>
    public bool IsSound => Label is StepLabel.Valid or StepLabel.Neutral or StepLabel.Correct;

    public static StepJudgement Valid(string reason) => new(StepLabel.Valid, reason);

    public static StepJudgement Invalid(string reason) => new(StepLabel.Invalid, reason);

    public static StepJudgement Neutral(string reason) => new(StepLabel.Neutral, reason);

    public override string ToString() => $"{Label.ToString().ToLowerInvariant()}: {Reason}";
}
