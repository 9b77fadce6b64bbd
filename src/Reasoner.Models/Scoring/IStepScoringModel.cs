namespace Reasoner.Models.Scoring;

/// <summary>
/// A model that scores steps: a Tree-PLV verifier or an OREO value head, in process (<see cref="ScorerEngine"/>) or on a
/// server's <c>POST /v1/score</c> (<see cref="ScoringClient"/>). Safe to call concurrently.
/// </summary>
public interface IStepScoringModel : IDisposable
{
    string Id { get; }

    /// <summary>Whether it was trained on the bare solve prompt rather than the few-shot one, so callers render the prompt it knows.</summary>
    bool ReadsBarePrompt { get; }

    /// <summary>Per candidate, the raw score at the end of each of its steps (σ of it is a probability).</summary>
    /// <param name="prompt">What every candidate continues (the question's prompt, and any steps they share).</param>
    Task<IReadOnlyList<double[]>> ScoreStepsAsync(string prompt, IReadOnlyList<IReadOnlyList<string>> candidates, string delimiter, CancellationToken cancel = default);
}
