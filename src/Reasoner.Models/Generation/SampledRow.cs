using Reasoner.Models.Backends;
using Reasoner.Models.Tokenization;

namespace Reasoner.Models.Generation;

/// <summary>
/// One continuation being sampled: its tokens, their log-probabilities, its text so far, and whether it is done.
/// <list type="bullet">
/// <item>Stop string: the row ends at the token whose text completes the earliest stop string; the text ends
/// before that string, the token ids run up to and including that token (which may carry text past the stop).</item>
/// <item>End of sequence: the EOS token is kept in the token ids (its log-probability is the model's choice to
/// end) but not in the text.</item>
/// <item>Token limit: ends after <c>maxTokens</c> tokens.</item>
/// </list>
/// </summary>
internal sealed class SampledRow
{
    private readonly IReadOnlyList<string> stops;
    private readonly int longestStop;
    private readonly IReadOnlySet<int> endOfSequence;
    private readonly int maxTokens;
    private readonly IncrementalDetokenizer detokenizer;
    private readonly List<int> tokenIds = [];
    private readonly List<double> tokenLogProbs = [];
    private readonly List<int> textEnds = []; // the detokenized text's length after each token
    private int stopAt = -1; // where the stop string starts in the text

    public SampledRow(ITextTokenizer tokenizer, Random random, IReadOnlyList<string> stops, IReadOnlySet<int> endOfSequence, int maxTokens)
    {
        Random = random;
        this.stops = stops;
        longestStop = stops.Count == 0 ? 0 : stops.Max(s => s.Length);
        this.endOfSequence = endOfSequence;
        this.maxTokens = maxTokens;
        detokenizer = new IncrementalDetokenizer(tokenizer);
    }

    /// <summary>This row's own generator: its draws do not depend on how long its siblings run.</summary>
    public Random Random { get; }

    public FinishReason? Finish { get; private set; }

    public int LastToken => tokenIds[^1];

    /// <returns>Whether the row is finished.</returns>
    public bool Accept(int token, double logProb)
    {
        tokenIds.Add(token);
        tokenLogProbs.Add(logProb);
        if (endOfSequence.Contains(token)) Finish = FinishReason.EndOfSequence;
        else if (FindStop(detokenizer.Append(token)) is { } at)
        {
            stopAt = at;
            Finish = FinishReason.Stop;
        }
        else if (tokenIds.Count >= maxTokens) Finish = FinishReason.Length;
        textEnds.Add(detokenizer.Length);
        return Finish is not null;
    }

    // Earlier text was searched when it arrived, so only a match that ends in the newly added text can be new.
    private int? FindStop(int added)
    {
        if (added == 0 || stops.Count == 0) return null;
        int from = Math.Max(0, detokenizer.Length - added - longestStop + 1);
        string tail = detokenizer.Substring(from);
        int best = int.MaxValue;
        foreach (var stop in stops)
        {
            int at = tail.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < best) best = at;
        }
        return best == int.MaxValue ? null : from + best;
    }

    public Completion ToCompletion()
    {
        if (Finish is null) throw new InvalidOperationException("the row is still being sampled");
        detokenizer.Flush();
        string all = detokenizer.Text, text = stopAt >= 0 ? all[..stopAt] : all;
        return new Completion(text, tokenIds.ToArray(), tokenLogProbs.ToArray(), Finish.Value) { TokenTexts = IncrementalDetokenizer.Pieces(all, textEnds) };
    }
}
