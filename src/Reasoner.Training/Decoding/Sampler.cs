using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Training.Decoding;

/// <summary>One generated continuation. <see cref="TokenIds"/> include the token that ended it (EOS, or the one completing a stop); <see cref="Text"/> excludes EOS and anything from the stop on.</summary>
public sealed record Sample(string Text, int[] TokenIds, double[] TokenLogProbs, FinishReason Finish);

/// <summary>
/// A small batched decoder for monitoring training and for evaluation until the generation engine lands:
/// prefill the left-padded prompts once, fork the KV cache into <c>n</c> rows per prompt, then decode one token per
/// step for every row (greedy at temperature 0, else temperature and top-p sampling from a seeded generator).
/// Token log-probabilities are the model's own (temperature 1) distribution.
/// </summary>
public static class Sampler
{
    /// <param name="cut">Given a row's text so far, the length to cut it to when it should stop there, or null to go on.</param>
    public static IReadOnlyList<Sample> Generate(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<string> prompts, int samplesPerPrompt,
        double temperature, double topP, int maxTokens, Func<string, int?>? cut = null, Generator? generator = null)
    {
        if (prompts.Count == 0) return [];
        if (samplesPerPrompt < 1 || maxTokens < 1) throw new ArgumentException("need at least one sample and one token");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        var eos = model.Config.EosTokenIds.Append(tokenizer.EosId).ToHashSet();

        var (ids, mask) = LeftPadded(prompts.Select(tokenizer.Encode).ToArray(), tokenizer.EosId, device);
        using var promptCache = new KvCache(model.Config.NumHiddenLayers);
        var logits = model.Forward(ids, promptCache, attentionMask: mask).select(1, -1);
        using var cache = promptCache.Expand(samplesPerPrompt);
        logits = logits.repeat_interleave(samplesPerPrompt, 0);

        int rows = prompts.Count * samplesPerPrompt;
        var tokens = Enumerable.Range(0, rows).Select(_ => new List<int>()).ToArray();
        var logProbs = Enumerable.Range(0, rows).Select(_ => new List<double>()).ToArray();
        var texts = new string[rows];
        var finish = new FinishReason?[rows];
        for (int step = 0; step < maxTokens && finish.Any(f => f is null); step++)
        {
            using var stepScope = NewDisposeScope();
            var next = temperature <= 0 ? logits.argmax(-1) : Draw(logits, temperature, topP, generator);
            var chosen = logits.to(ScalarType.Float32).log_softmax(-1).gather(-1, next.unsqueeze(-1)).squeeze(-1);
            var nextIds = next.cpu().data<long>().ToArray();
            var nextLogProbs = chosen.cpu().data<float>().ToArray();
            for (int r = 0; r < rows; r++)
            {
                if (finish[r] is not null) continue;
                int token = (int)nextIds[r];
                tokens[r].Add(token);
                logProbs[r].Add(nextLogProbs[r]);
                if (eos.Contains(token))
                {
                    finish[r] = FinishReason.EndOfSequence;
                    continue;
                }
                texts[r] = tokenizer.Decode(tokens[r]);
                if (cut?.Invoke(texts[r]) is int end)
                {
                    texts[r] = texts[r][..end];
                    finish[r] = FinishReason.Stop;
                }
                else if (tokens[r].Count == maxTokens) finish[r] = FinishReason.Length;
            }
            if (finish.All(f => f is not null)) break;
            // Finished rows keep decoding (cheaper than reshaping the cache); their tokens are ignored.
            var advanced = model.Forward(next.unsqueeze(1), cache).select(1, 0).MoveToOuterDisposeScope();
            logits = advanced;
        }
        return Enumerable.Range(0, rows)
            .Select(r => new Sample(texts[r] ?? "", tokens[r].ToArray(), logProbs[r].ToArray(), finish[r] ?? FinishReason.Length))
            .ToArray();
    }

    /// <summary>Cuts a text at the earliest of the stop strings (the stop string itself is dropped).</summary>
    public static Func<string, int?> StopStrings(IReadOnlyList<string> stops) => text =>
    {
        int? earliest = null;
        foreach (var stop in stops)
            if (stop.Length > 0 && text.IndexOf(stop, StringComparison.Ordinal) is >= 0 and var i && (earliest is null || i < earliest))
                earliest = i;
        return earliest;
    };

    private static (Tensor Ids, Tensor Mask) LeftPadded(int[][] sequences, int padId, Device device)
    {
        // Left padding lines every prompt's last token up at the same column, where decoding continues.
        int rows = sequences.Length, width = Math.Max(1, sequences.Max(s => s.Length));
        var ids = new long[rows * width];
        var mask = new bool[rows * width];
        for (int r = 0; r < rows; r++)
        {
            int offset = width - sequences[r].Length;
            for (int t = 0; t < width; t++)
            {
                ids[r * width + t] = t < offset ? padId : sequences[r][t - offset];
                mask[r * width + t] = t >= offset;
            }
        }
        return (tensor(ids, [rows, width], device: device), tensor(mask, [rows, width], device: device));
    }

    private static Tensor Draw(Tensor logits, double temperature, double topP, Generator? generator)
    {
        var probs = (logits.to(ScalarType.Float32) / temperature).softmax(-1);
        if (topP < 1)
        {
            // Keep the smallest set of most likely tokens whose mass reaches topP (always at least the top one).
            var (sorted, order) = probs.sort(-1, descending: true);
            var before = sorted.cumsum(-1) - sorted;
            sorted = sorted.masked_fill(before >= topP, 0);
            probs = zeros_like(probs).scatter(-1, order, sorted);
        }
        return multinomial(probs, 1, generator: generator).squeeze(-1);
    }
}
