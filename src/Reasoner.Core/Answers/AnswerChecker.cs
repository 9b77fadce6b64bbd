using Reasoner.Core.Problems;

namespace Reasoner.Core.Answers;

/// <summary>The answer found in a solution, and whether it matches the problem's reference answer.</summary>
public readonly record struct AnswerCheck(string? Extracted, bool IsCorrect);

/// <summary>
/// Judges answers against references. Every search reward and training label comes from here, so it must never
/// throw: malformed or adversarial input is simply judged not equivalent.
/// </summary>
public static class AnswerChecker
{
    /// <summary>
    /// Whether <paramref name="predicted"/> means the same answer as <paramref name="reference"/>. Number: equal
    /// values within a relative 1e-6, ignoring commas, currency, units and percent signs (non-numbers fall back to
    /// Math). Math: equal after LaTeX normalisation, or equal in value (algebraically, by evaluation at fixed random
    /// points), element-wise for tuples, intervals and matrices, as multisets for sets and lists. Choice: the same
    /// label (1–5 stand for A–E). YesNo: both yes or both no (true/false accepted).
    /// </summary>
    public static bool IsEquivalent(string predicted, string reference, AnswerKind kind)
    {
        if (string.IsNullOrWhiteSpace(predicted) || string.IsNullOrWhiteSpace(reference)) return false;
        try
        {
            return kind switch
            {
                AnswerKind.Number => NumberAnswer.TryParse(predicted) is { } p && NumberAnswer.TryParse(reference) is { } r
                    ? NumberAnswer.Equivalent(p, r)
                    : MathEquivalence.AreEquivalent(predicted, reference),
                AnswerKind.Choice => ChoiceAnswer.Normalize(predicted) is { } label
                    ? label == ChoiceAnswer.Normalize(reference)
                    : string.Equals(predicted.Trim(), reference.Trim(), StringComparison.OrdinalIgnoreCase),
                AnswerKind.YesNo => YesNoAnswer.Normalize(predicted) is { } yesNo && yesNo == YesNoAnswer.Normalize(reference),
                _ => MathEquivalence.AreEquivalent(predicted, reference),
            };
        }
        catch (Exception)
        {
            // A bug in a corner of the normaliser must cost one reward, not a whole search run.
            return false;
        }
    }

    /// <summary>Extracts the answer from <paramref name="solutionText"/> and compares it with <see cref="Problem.Answer"/>.</summary>
    public static AnswerCheck Check(string solutionText, Problem problem)
    {
        string? extracted;
        try
        {
            extracted = AnswerExtractor.Extract(solutionText, problem.Kind);
            if (extracted is null && problem.Kind == AnswerKind.Choice && problem.Choices.Count > 0)
                extracted = AnswerExtractor.MatchChoiceText(solutionText, problem.Choices);
        }
        catch (Exception)
        {
            return new AnswerCheck(null, false);
        }
        return new AnswerCheck(extracted, extracted is not null && IsEquivalent(extracted, problem.Answer, problem.Kind));
    }
}
