using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Export;

/// <summary>
/// The text of a training prompt. Every export builds it as <c>head(problem)</c> followed by each shared
/// step and a <see cref="PreferenceTree.StepDelimiter"/>, and joins the completion's steps with the same
/// delimiter, so that prompt + completion is exactly head(problem) + <see cref="PreferenceTree.StepsText"/>.
/// </summary>
public static class PromptText
{
    /// <summary>
    /// The question, then one "(label) text" line per answer choice, each line ended by the step delimiter.
    /// Pass the run's own prompt template instead when the trained model must see what the policy saw.
    /// </summary>
    public static string Default(Problem problem) =>
        problem.Question + PreferenceTree.StepDelimiter
        + string.Concat(problem.Choices.Select(c => $"({c.Label}) {c.Text}{PreferenceTree.StepDelimiter}"));

    public static string WithPrefix(Func<Problem, string> head, Problem problem, IEnumerable<string> prefixSteps) => State(head(problem), prefixSteps);

    /// <summary>
    /// The text a policy continues after some steps: the rendered solve prompt, then each step closed by the delimiter.
    /// Search's states, every trainer's prompts and the verifier's read this one rendering, so that they agree token for token.
    /// </summary>
    public static string State(string head, IEnumerable<string> steps) =>
        head + string.Concat(steps.Select(s => s + PreferenceTree.StepDelimiter));

    public static string Completion(IEnumerable<string> steps) => string.Join(PreferenceTree.StepDelimiter, steps);
}
