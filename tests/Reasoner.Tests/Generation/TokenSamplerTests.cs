using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>The sampler on crafted distributions: greedy is argmax, and top-p never leaves the nucleus.</summary>
public class TokenSamplerTests
{
    private static float[] LogOf(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    private static int[] Counts(TokenSampler sampler, float[] logProbs, int draws, int seed = 1)
    {
        var random = new Random(seed);
        var counts = new int[logProbs.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logProbs, random)]++;
        return counts;
    }

    [Fact]
    public void TemperatureZeroIsArgmaxAndDrawsNothing()
    {
        var sampler = new TokenSampler(temperature: 0, topP: 1);
        var random = new Random(3);
        int before = new Random(3).Next();
        Assert.Equal(2, sampler.Sample(LogOf(0.2, 0.1, 0.6, 0.1), random));
        Assert.Equal(before, random.Next()); // greedy leaves the generator untouched
        Assert.Equal(0, sampler.Sample(LogOf(0.4, 0.4, 0.2), random)); // ties go to the lowest id
    }

    [Fact]
    public void TopPNeverSamplesOutsideTheNucleus()
    {
        // Nucleus at 0.75: {0.5, 0.3} (0.5 alone is short of 0.75); 0.15 and 0.05 must never come up.
        var counts = Counts(new TokenSampler(1, 0.75), LogOf(0.15, 0.5, 0.05, 0.3), draws: 8000);
        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[2]);
        // Renormalised within the nucleus: 0.5/0.8 and 0.3/0.8.
        Assert.InRange(counts[1] / 8000.0, 0.60, 0.65);
        Assert.InRange(counts[3] / 8000.0, 0.35, 0.40);
    }

    [Fact]
    public void TopPAppliesToTemperedProbabilities()
    {
        // At temperature 0.5, 0.5 : 0.3 : 0.2 becomes 0.66 : 0.24 : 0.11, so a 0.65 nucleus is the top token
        // alone; untempered it takes the top two.
        var counts = Counts(new TokenSampler(0.5, 0.65), LogOf(0.5, 0.3, 0.2), draws: 2000);
        Assert.Equal(2000, counts[0]);
        var untempered = Counts(new TokenSampler(1, 0.65), LogOf(0.5, 0.3, 0.2), draws: 2000);
        Assert.True(untempered[1] > 0);
        Assert.Equal(0, untempered[2]);
    }

    [Fact]
    public void TinyTopPIsGreedy()
    {
        var counts = Counts(new TokenSampler(1.5, 1e-9), LogOf(0.3, 0.35, 0.35), draws: 500);
        Assert.Equal(500, counts[1]);
    }

    [Fact]
    public void NucleusReachingIntoTheLongTailIsStillExact()
    {
        // One token of 0.5 and a tail of 12 000 tokens of about 4e-5 each (slowly falling with the id), all below the
        // candidate threshold: a 0.9 nucleus needs the top token plus the first ~9 400 tail tokens, never the last 1 800.
        const int tail = 12_000;
        var probabilities = new double[tail + 1];
        probabilities[0] = 0.5;
        for (int i = 1; i <= tail; i++) probabilities[i] = 0.5 / tail * (1.1 - 0.2 * i / tail);
        var counts = Counts(new TokenSampler(1, 0.9), LogOf(probabilities), draws: 300);
        Assert.Equal(0, counts.Skip(10_200).Sum());
        Assert.True(counts.Skip(1).Take(9_000).Sum() > 90);
        Assert.InRange(counts[0] / 300.0, 0.46, 0.65); // 0.5 / 0.9
    }

    [Fact]
    public void FullDistributionMatchesItsProbabilities()
    {
        var counts = Counts(new TokenSampler(1, 1), LogOf(0.1, 0.6, 0.3), draws: 10_000);
        Assert.InRange(counts[0] / 10_000.0, 0.085, 0.115);
        Assert.InRange(counts[1] / 10_000.0, 0.58, 0.62);
    }

    [Fact]
    public void SameGeneratorStateSameDraws()
    {
        var sampler = new TokenSampler(0.8, 0.95);
        var logProbs = LogOf(0.25, 0.25, 0.2, 0.2, 0.1);
        Assert.Equal(Counts(sampler, logProbs, 200, seed: 5), Counts(sampler, logProbs, 200, seed: 5));
    }

    [Theory]
    [InlineData(-0.1, 1.0)]
    [InlineData(double.NaN, 1.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, 1.5)]
    public void RejectsBadSettings(double temperature, double topP) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(temperature, topP));
}
