using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Games;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>games</c>: ONPO's theory checked on its own terms, exact OMD against optimistic OMD on a small preference game.</summary>
static class GamesCommand
{
    public enum GameKind { Rps, Random }

    public static Command Create(CliContext context)
    {
        var game = EnumOption.Create<GameKind>("--game", "rps: perturbed rock-paper-scissors (cyclic preferences, a non-uniform interior equilibrium). random: a random skew-symmetric game, redrawn until its equilibrium is unique and interior with every response at 0.05 or more.", GameKind.Rps);
        var size = new Option<int>("--size") { Description = "Responses in a random game (odd sizes have a unique equilibrium generically).", DefaultValueFactory = _ => 5 };
        var eta = new Option<double>("--eta") { Description = "η, the mirror-descent step (Theorem 3 asks η ≤ 1/8).", DefaultValueFactory = _ => 0.125 };
        var iterations = new Option<int>("--iterations") { Description = "Iterations T.", DefaultValueFactory = _ => 5000 };
        var every = new Option<int>("--every") { Description = "Print every this many iterations (and the last).", DefaultValueFactory = _ => 500 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random game and of the non-uniform start.", DefaultValueFactory = _ => 1 };
        var command = new Command("games",
            "Run exact OMD and optimistic OMD self-play (ONPO, arXiv 2502.16852) on a small preference game with a unique interior equilibrium, from a non-uniform start, " +
            "and print the duality gap of the last and of the average iterate: optimistic OMD's last iterate converges, plain OMD's cycles.")
        {
            game, size, eta, iterations, every, seed,
        };
        command.SetAction(parse =>
        {
            int t = parse.GetValue(iterations), step = parse.GetValue(every);
            if (t < 1 || step < 1) throw new UserError("--iterations and --every must be at least 1");
            var random = new Random(parse.GetValue(seed));
            var (g, equilibrium) = EnumOption.Value<GameKind>(parse, game) == GameKind.Rps
                ? (PreferenceGame.RockPaperScissors(), PreferenceGame.RockPaperScissors().UniqueInteriorEquilibrium())
                : GameWithUniqueEquilibrium(parse.GetValue(size), random);
            var start = Start(g.Size, random);
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"equilibrium π* = ({string.Join(", ", equilibrium!.Select(x => x.ToString("0.000", CultureInfo.InvariantCulture)))}); start ({string.Join(", ", start.Select(x => x.ToString("0.000", CultureInfo.InvariantCulture)))}); η {parse.GetValue(eta)}");
            var table = new Table().AddColumn("t").AddColumn(new TableColumn("OMD last").RightAligned()).AddColumn(new TableColumn("OMD average").RightAligned())
                .AddColumn(new TableColumn("optimistic last").RightAligned()).AddColumn(new TableColumn("optimistic average").RightAligned());
            var omd = MirrorDescent.Omd(g, start, parse.GetValue(eta), t);
            var optimistic = MirrorDescent.OptimisticOmd(g, start, parse.GetValue(eta), t);
            foreach (var (a, b) in omd.Zip(optimistic).Where(x => x.First.Iteration % step == 0 || x.First.Iteration == 1 || x.First.Iteration == t))
                table.AddRow(a.Iteration.ToString(CultureInfo.InvariantCulture), F(a.LastGap), F(a.AverageGap), F(b.LastGap), F(b.AverageGap));
            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A random game redrawn until its equilibrium is unique, interior and gives every response at least
    /// <paramref name="minMass"/> (Theorem 3's rate constant worsens as the equilibrium nears the simplex's boundary), with that equilibrium.
    /// </summary>
    public static (PreferenceGame Game, double[] Equilibrium) GameWithUniqueEquilibrium(int size, Random random, double minMass = 0.05)
    {
        if (size < 2) throw new UserError($"--size must be at least 2, got {size}");
        for (int attempt = 0; attempt < 10000; attempt++)
        {
            var game = PreferenceGame.Random(size, random);
            if (game.UniqueInteriorEquilibrium() is { } equilibrium && equilibrium.Min() >= minMass) return (game, equilibrium);
        }
        throw new UserError($"no random game of size {size} with a unique interior equilibrium in 10000 draws (even sizes rarely have one)");
    }

    /// <summary>A seeded non-uniform policy with full support.</summary>
    public static double[] Start(int size, Random random)
    {
        var weights = Enumerable.Range(0, size).Select(_ => 0.2 + random.NextDouble()).ToArray();
        return weights.Select(w => w / weights.Sum()).ToArray();
    }

    private static string F(double x) => x.ToString("0.000000", CultureInfo.InvariantCulture);
}
