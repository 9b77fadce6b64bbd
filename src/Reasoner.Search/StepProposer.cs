using System.Text.RegularExpressions;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

public sealed record ProposalSettings
{
    /// <summary>Token limit of one step (MCTS-DPO max_new_tokens 128).</summary>
    public int MaxStepTokens { get; init; } = 128;

    /// <summary>Sampling temperature of steps (MCTS-DPO 1.0).</summary>
    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    /// <summary>Exponent of the step length in the prior exp(Σ log p / len^penalty) (MCTS-DPO mcts_length_penalty 1.25).</summary>
    public double LengthPenalty { get; init; } = 1.25;

    /// <summary>
    /// Samples drawn per wanted step: a request for k steps samples k × this many in one batched call and keeps the
    /// first k distinct ones. MCTS-DPO draws k (1 here): a 7B policy rarely repeats a step, but a small, confident
    /// one does, and a repeated step adds nothing to the tree, so its nodes would get a single child.
    /// </summary>
    public int Oversampling { get; init; } = 1;

    internal void Record(SettingsRecorder recorder) => recorder
        .Add("proposal.oversampling", Oversampling)
        .Add("proposal.maxStepTokens", MaxStepTokens)
        .Add("proposal.temperature", Temperature)
        .Add("proposal.topP", TopP)
        .Add("proposal.lengthPenalty", LengthPenalty);
}

/// <summary>
/// One distinct candidate step. <see cref="Samples"/> counts how many of the request's samples had this text;
/// the first sample's tokens, log-probability and finish reason stand for all of them.
/// </summary>
public sealed record ProposedStep(string Text, int TokenCount, double LogProb, double Prior, FinishReason Finish, int Samples);

/// <summary>
/// Samples k candidate next steps of a state with one <see cref="ILanguageModel.CompleteAsync"/> call (n = k, stop at
/// the step delimiter), so that the backend shares the prefix among siblings, and merges samples with the same
/// text.
/// </summary>
public sealed partial class StepProposer(ILanguageModel model, ProposalSettings settings)
{
    public ProposalSettings Settings { get; } = settings.Oversampling >= 1 ? settings
        : throw new ArgumentException($"oversampling must be at least 1, not {settings.Oversampling}", nameof(settings));

    /// <summary>
    /// The first k distinct steps among k × <see cref="ProposalSettings.Oversampling"/> samples, in order of first
    /// appearance; samples repeating a kept step are counted on it, further distinct ones are dropped. Blank lines
    /// are dropped: an empty line is not a step, and MCTS-DPO likewise splits steps on runs of newlines. A blank
    /// sample that ends the sequence is kept, as the model's choice to end the solution there.
    /// </summary>
    public async Task<IReadOnlyList<ProposedStep>> ProposeAsync(string state, string delimiter, int k, long seed, CancellationToken cancel)
    {
        var request = new CompletionRequest(state, k * Settings.Oversampling, Settings.MaxStepTokens)
        {
            Stop = [delimiter],
            Temperature = Settings.Temperature,
            TopP = Settings.TopP,
            Seed = seed,
        };
        var completions = await model.CompleteAsync(request, cancel);

        var distinct = new List<(Completion First, int Samples)>();
        var indexByKey = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var completion in completions)
        {
            if (string.IsNullOrWhiteSpace(completion.Text) && completion.Finish != FinishReason.EndOfSequence) continue;
            var key = NormalizeStep(completion.Text);
            if (indexByKey.TryGetValue(key, out var index))
                distinct[index] = (distinct[index].First, distinct[index].Samples + 1);
            else if (distinct.Count < k)
            {
                indexByKey[key] = distinct.Count;
                distinct.Add((completion, 1));
            }
        }

        var priors = Priors(distinct.Select(d => d.First).ToList());
        return [.. distinct.Select((d, i) => new ProposedStep(d.First.Text, d.First.TokenCount, d.First.LogProb, priors[i], d.First.Finish, d.Samples))];
    }

    /// <summary>
    /// PUCT priors of the siblings: MCTS-DPO's length-normalised probability exp(Σ log p / len^1.25)
    /// (mcts.py, MCTSNode.p), divided by its sum over the siblings. MCTS-DPO uses the unnormalised value; we
    /// normalise, as AlphaZero's PUCT does, so that w_exp weighs exploration the same whatever the step lengths
    /// (a set of long steps would otherwise get almost no exploration bonus). A merged duplicate keeps one share:
    /// its extra samples are recorded in <see cref="ProposedStep.Samples"/>, not added to its prior.
    /// </summary>
    private double[] Priors(IReadOnlyList<Completion> steps)
    {
        // An empty end-of-sequence step has no tokens; count it as one so that its prior stays finite.
        var raw = steps.Select(s => Math.Exp(s.LogProb / Math.Pow(Math.Max(1, s.TokenCount), Settings.LengthPenalty))).ToArray();
        var sum = raw.Sum();
        return sum > 0 && double.IsFinite(sum)
            ? [.. raw.Select(r => r / sum)]
            : [.. raw.Select(_ => 1.0 / raw.Length)];
    }

    /// <summary>Two samples are the same step when they differ only in whitespace.</summary>
    public static string NormalizeStep(string text) => Whitespace().Replace(text.Trim(), " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
