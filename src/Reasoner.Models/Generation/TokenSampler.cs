namespace Reasoner.Models.Generation;

/// <summary>
/// Picks the next token from one row of log-probabilities: argmax at temperature 0, otherwise a draw from
/// softmax(logProbs / temperature) restricted to the nucleus — the smallest set of most probable tokens whose
/// tempered probability reaches <see cref="TopP"/> (temperature first, then top-p, as HF and vLLM do).
/// Pure given its <see cref="Random"/>: the engine gives every sampled row its own seeded generator, so a row's
/// tokens depend only on the request's seed, the row's index and the model's log-probabilities.
/// Reuses scratch buffers between calls, so one instance serves one request at a time.
/// </summary>
public sealed class TokenSampler
{
    // Candidates for the nucleus are first looked for among tokens at least this likely relative to the most
    // likely one; a full sort of a 150k vocabulary per row and step is what this avoids.
    private const double CandidateRatio = 1e-4;

    private double[] probabilities = [], sortKeys = [];
    private int[] candidates = [];

    public TokenSampler(double temperature, double topP)
    {
        if (!(temperature >= 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), $"temperature must be a finite number >= 0, not {temperature}");
        if (!(topP > 0 && topP <= 1)) throw new ArgumentOutOfRangeException(nameof(topP), $"top-p must be in (0, 1], not {topP}");
        Temperature = temperature;
        TopP = topP;
    }

    public double Temperature { get; }

    public double TopP { get; }

    /// <param name="logProbs">Untempered log-probabilities (or logits: only differences matter) of the tokens that may be drawn.</param>
    public int Sample(ReadOnlySpan<float> logProbs, Random random)
    {
        if (logProbs.IsEmpty) throw new ArgumentException("no tokens to sample from", nameof(logProbs));
        int best = ArgMax(logProbs);
        if (Temperature == 0) return best;

        if (probabilities.Length < logProbs.Length)
        {
            probabilities = new double[logProbs.Length];
            sortKeys = new double[logProbs.Length];
            candidates = new int[logProbs.Length];
        }
        // Relative to the most likely token, so the largest term is exactly 1 and nothing overflows.
        double max = logProbs[best], total = 0;
        for (int i = 0; i < logProbs.Length; i++)
            total += probabilities[i] = Math.Exp((logProbs[i] - max) / Temperature);

        return TopP >= 1 ? Draw(random, total, logProbs.Length) : DrawFromNucleus(random, total, logProbs.Length);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i; // ties go to the lowest id
        return best;
    }

    private int Draw(Random random, double total, int count)
    {
        double target = random.NextDouble() * total, cumulative = 0;
        int last = 0;
        for (int i = 0; i < count; i++)
        {
            if (probabilities[i] == 0) continue;
            cumulative += probabilities[i];
            last = i;
            if (cumulative > target) return i;
        }
        return last; // rounding left the target just past the sum
    }

    private int DrawFromNucleus(Random random, double total, int count)
    {
        double needed = TopP * total;
        // Tokens above the threshold come first in descending order, so if they alone reach the needed mass the
        // nucleus lies among them; otherwise every token is a candidate.
        int n = Candidates(CandidateRatio, count, needed);
        if (n < 0) n = Candidates(0, count, double.NegativeInfinity);
        var order = candidates.AsSpan(0, n);
        var p = probabilities;
        // Sorting primitive keys is several times faster than a comparison delegate; equal probabilities come out
        // in an order fixed by the input, so draws stay deterministic.
        var keys = sortKeys.AsSpan(0, n);
        for (int i = 0; i < n; i++) keys[i] = -p[order[i]];
        keys.Sort(order);

        double kept = 0;
        int size = 0;
        while (size < n && (size == 0 || kept < needed)) kept += p[order[size++]];

        double target = random.NextDouble() * kept, cumulative = 0;
        for (int i = 0; i < size; i++)
        {
            cumulative += p[order[i]];
            if (cumulative > target) return order[i];
        }
        return order[size - 1];
    }

    /// <summary>Collects tokens with probability at least <paramref name="threshold"/>; -1 when their mass is below <paramref name="needed"/>.</summary>
    private int Candidates(double threshold, int count, double needed)
    {
        int n = 0;
        double mass = 0;
        for (int i = 0; i < count; i++)
        {
            if (probabilities[i] < threshold) continue;
            candidates[n++] = i;
            mass += probabilities[i];
        }
        return mass >= needed ? n : -1;
    }
}
