using Reasoner.Core.Statistics;

namespace Reasoner.Tests.Statistics;

public class StatisticsTests
{
    [Theory]
    // Worked by hand from Wilson's formula with z = 1.959964 (and matching R's prop.test(correct = FALSE)).
    [InlineData(5, 10, 0.236593, 0.763407)]
    [InlineData(0, 10, 0.0, 0.277533)]
    [InlineData(10, 10, 0.722467, 1.0)]
    [InlineData(73, 200, 0.3014053, 0.4336832)]
    public void WilsonMatchesTheFormula(int k, int n, double low, double high)
    {
        var interval = Intervals.Wilson(k, n);
        Assert.Equal(low, interval.Low, 1e-6);
        Assert.Equal(high, interval.High, 1e-6);
    }

    [Fact]
    public void WilsonRefusesImpossibleCountsAndIsVacuousOnNothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Intervals.Wilson(3, 2));
        Assert.Equal(new Interval(0, 1), Intervals.Wilson(0, 0));
    }

    [Theory]
    [InlineData(0, 5, 0.0625)]          // 2 · (1/2)^5
    [InlineData(3, 10, 0.0922852)]      // 2 · (1 + 13 + 78 + 286) / 2^13
    [InlineData(7, 7, 1.0)]
    [InlineData(0, 0, 1.0)]
    [InlineData(10, 40, 0.0000239)]     // 2 · P(X ≤ 10), X ~ Bin(50, 1/2) = 2.386e-5
    public void McNemarExactIsTheDoubledBinomialTail(int onlyA, int onlyB, double p)
    {
        Assert.Equal(p, McNemar.ExactP(onlyA, onlyB), 7);
        Assert.Equal(p, McNemar.ExactP(onlyB, onlyA), 7);
    }

    [Fact]
    public void McNemarStaysFiniteOnThousandsOfDiscordantProblems()
    {
        double p = McNemar.ExactP(1500, 1600);
        Assert.InRange(p, 0.05, 0.1); // z ≈ 1.8 on a normal approximation
    }

    [Fact]
    public void AucCountsPairsAndHalfTies()
    {
        Assert.Equal(1.0, Auc.Compute([0.9, 0.8], [0.1, 0.2]));
        Assert.Equal(0.0, Auc.Compute([0.1], [0.9]));
        Assert.Equal(0.5, Auc.Compute([0.5, 0.5], [0.5]));
        // valid {.9, .6, .95} vs invalid {.7, .8, .5, .2}: 4 + 2 + 4 of 12 pairs.
        Assert.Equal(10.0 / 12, Auc.Compute([0.9, 0.6, 0.95], [0.7, 0.8, 0.5, 0.2])!.Value, 12);
        // Ties across classes: 0.5 vs {0.5, 0.1} is one half-win and one win.
        Assert.Equal(0.75, Auc.Compute([0.5], [0.5, 0.1])!.Value, 12);
        Assert.Null(Auc.Compute([], [0.1]));
    }

    [Fact]
    public void AucIntervalFollowsHanleyAndMcNeil()
    {
        // A = 0.5 on 10 and 10: Q1 = Q2 = 1/3, variance (0.25 + 9·(1/3 − 1/4)·2) / 100 = 0.0175.
        var even = Auc.Interval(0.5, 10, 10);
        Assert.Equal(0.5 - Intervals.Z95 * Math.Sqrt(0.0175), even.Low, 9);
        Assert.Equal(0.5 + Intervals.Z95 * Math.Sqrt(0.0175), even.High, 9);
        // More scores on each side, a narrower interval; few on one side, a wide one.
        var many = Auc.Interval(0.727, 266, 215);
        Assert.True(many.Contains(0.727) && many.High - many.Low < 0.1);
        var fewInvalid = Auc.Interval(0.727, 266, 15);
        Assert.True(fewInvalid.High - fewInvalid.Low > 2 * (many.High - many.Low));
        // Perfect separation has no spread left in the formula; an interval never leaves [0, 1].
        Assert.Equal(new Interval(1, 1), Auc.Interval(1, 3, 3));
        Assert.InRange(Auc.Interval(0.98, 5, 5).High, 0.98, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Auc.Interval(0.5, 0, 3));
    }

    [Fact]
    public void BootstrapIsSeededAndCoversTheMean()
    {
        var values = Enumerable.Range(0, 400).Select(i => i % 3 == 0 ? 1.0 : 0.0).ToList();
        var a = Intervals.BootstrapMean(values, seed: 7);
        Assert.Equal(a, Intervals.BootstrapMean(values, seed: 7));
        Assert.True(a.Contains(values.Average()));
        // About ±1.96 · sqrt(p(1-p)/n) = ±0.046 around 0.335.
        Assert.InRange(a.High - a.Low, 0.07, 0.11);
        // All-equal values leave nothing to resample.
        Assert.Equal(new Interval(0.25, 0.25), Intervals.BootstrapMean([0.25, 0.25, 0.25]));
    }
}
