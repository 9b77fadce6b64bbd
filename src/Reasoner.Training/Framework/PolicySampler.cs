using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;

namespace Reasoner.Training.Framework;

/// <summary>A problem's solutions sampled from the policy, each with the tokens it drew and their log-probabilities.</summary>
public sealed record SampledSolutions(Problem Problem, IReadOnlyList<Completion> Solutions);

/// <summary>How on-policy solutions are drawn: K per problem, at a temperature, up to a token limit, from a seed.</summary>
public sealed record PolicySampling(int Samples, double Temperature, int MaxTokens, long Seed, IReadOnlyList<string> Stop);

/// <summary>
/// Whole solutions sampled from the policy as it is now, for trainers that learn from fresh on-policy samples (TRPA each
/// epoch, ONPO each round). It decodes through the engine over the live weights, so the token log-probabilities it
/// records are the sampling policy's own (untempered), which TRPA's trust region measures against. Problem i draws with
/// seed Seed + i.
/// </summary>
public static class PolicySampler
{
    public static IReadOnlyList<SampledSolutions> Sample(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<Problem> problems,
        Func<Problem, string> prompt, PolicySampling sampling, Action<int>? progress = null, CancellationToken cancel = default)
    {
        if (sampling.Samples < 1 || sampling.MaxTokens < 1) throw new ArgumentException($"need at least one sample and one token, got {sampling.Samples} and {sampling.MaxTokens}");
        // No prefix cache: the weights change between calls, and each prompt is sampled once.
        using var engine = new TorchEngine(model, tokenizer, "policy", new TorchEngineOptions { PrefixCacheTokens = 0 });
        var result = new List<SampledSolutions>(problems.Count);
        for (int i = 0; i < problems.Count; i++)
        {
            var request = new CompletionRequest(prompt(problems[i]), sampling.Samples, sampling.MaxTokens)
            {
                Temperature = sampling.Temperature,
                Seed = sampling.Seed + i,
                Stop = sampling.Stop,
            };
            result.Add(new SampledSolutions(problems[i], engine.CompleteAsync(request, cancel).GetAwaiter().GetResult()));
            progress?.Invoke(i + 1);
        }
        return result;
    }
}
