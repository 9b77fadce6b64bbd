using Reasoner.Cli.Commands;
using Reasoner.Core.Games;

namespace Reasoner.Tests.Games;

public class MirrorDescentTests
{
    private const double Eta = 0.125; // Theorem 3's bound, η ≤ 1/8

    [Fact]
    public void PerturbedRockPaperScissorsHasTheUniqueInteriorEquilibriumWorkedOutByHand()
    {
        // A = P − ½ has the null vector (b, c, a) = (0.2, 0.4, 0.3), normalised (2/9, 4/9, 3/9): every response wins half the time.
        var game = PreferenceGame.RockPaperScissors(a: 0.3, b: 0.2, c: 0.4);
        var equilibrium = game.UniqueInteriorEquilibrium()!;
        Assert.Equal([2 / 9.0, 4 / 9.0, 3 / 9.0], equilibrium.Select(x => Math.Round(x, 12)), (x, y) => Math.Abs(x - y) < 1e-9);
        Assert.Equal(0, game.DualityGap(equilibrium), 9);
        Assert.Equal(2 * 0.9 - 1, game.DualityGap([1, 0, 0]), 12); // pure rock loses to scissors 0.9 of the time: its best response wins 0.9
    }

    [Fact]
    public void AGameWithoutAnInteriorEquilibriumIsRecognised()
    {
        // Response 0 beats both others: the equilibrium is pure, on the boundary.
        var dominated = new PreferenceGame(new[,] { { 0.5, 0.8, 0.7 }, { 0.2, 0.5, 0.6 }, { 0.3, 0.4, 0.5 } });
        Assert.Null(dominated.UniqueInteriorEquilibrium());
        Assert.Throws<ArgumentException>(() => new PreferenceGame(new[,] { { 0.5, 0.8 }, { 0.3, 0.5 } })); // P + Pᵀ ≠ 1
    }

    [Fact]
    public void OnRockPaperScissorsOptimisticOmdsLastIterateConvergesWhilePlainOmdsCycles()
    {
        var game = PreferenceGame.RockPaperScissors();
        double[] start = [0.315, 0.218, 0.467];
        var plain = MirrorDescent.Omd(game, start, Eta, 60_000).ToList();
        var optimistic = MirrorDescent.OptimisticOmd(game, start, Eta, 60_000).ToList();

        Assert.True(optimistic[^1].LastGap < 1e-4, $"optimistic OMD's last-iterate gap {optimistic[^1].LastGap:g3}");
        // Plain OMD's last iterate never settles: over the last 10,000 iterations its gap stays far above optimistic OMD's.
        Assert.True(plain.Skip(50_000).Min(p => p.LastGap) > 0.05, $"plain OMD's smallest late gap {plain.Skip(50_000).Min(p => p.LastGap):g3}");
        // Its average still converges (Theorem 1), only slower than the optimistic last iterate.
        Assert.True(plain[^1].AverageGap < 0.01, $"plain OMD's average gap {plain[^1].AverageGap:g3}");
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 5)]
    [InlineData(3, 5)]
    [InlineData(4, 7)]
    public void OnRandomGamesWithAUniqueInteriorEquilibriumTheOptimisticLastIterateConverges(int seed, int size)
    {
        var random = new Random(seed);
        var (game, equilibrium) = GamesCommand.GameWithUniqueEquilibrium(size, random);
        var start = GamesCommand.Start(size, random);
        var plain = MirrorDescent.Omd(game, start, Eta, 200_000).ToList();
        var optimistic = MirrorDescent.OptimisticOmd(game, start, Eta, 200_000).ToList();

        Assert.True(optimistic[^1].LastGap < 1e-3, $"optimistic OMD's last-iterate gap {optimistic[^1].LastGap:g3} (equilibrium {string.Join(", ", equilibrium.Select(x => x.ToString("0.000")))})");
        Assert.True(plain.Skip(190_000).Max(p => p.LastGap) > 10 * optimistic[^1].LastGap + 0.01, $"plain OMD's late gaps reach only {plain.Skip(190_000).Max(p => p.LastGap):g3}");
    }

    [Fact]
    public void AStepIsTheAnchorReweightedByTheExponentiatedReward()
    {
        var next = MirrorDescent.Step([0.5, 0.5], [1, 0], Math.Log(3));
        Assert.Equal(0.75, next[0], 12);
        Assert.Equal(0.25, next[1], 12);
    }
}
