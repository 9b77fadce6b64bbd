namespace Reasoner.Tests.Cli;

/// <summary>Environment variables are process-wide, so these tests do not run beside others that read settings.</summary>
[CollectionDefinition(nameof(EnvironmentVariableCollection), DisableParallelization = true)]
public sealed class EnvironmentVariableCollection;

[Collection(nameof(EnvironmentVariableCollection))]
public sealed class SettingsPrecedenceTests
{
    // The seed is visible in the tasks header of a generated (non-fixed) split.
    static async Task<string> SeedInForce(params string[] extra)
    {
        var r = await CliRunner.Run(["tasks", "arith", "--split", "train", "--size", "5", "-n", "0", .. extra]);
        Assert.Equal(0, r.ExitCode);
        return r.Out.Split("seed ")[1].Split(',')[0];
    }

    [Fact]
    public async Task AppSettingsThenEnvironmentThenCommandLine()
    {
        Assert.Equal("1234", await SeedInForce());                 // appsettings.json shipped with the executable
        Environment.SetEnvironmentVariable("REASONER_Seed", "77");
        try
        {
            Assert.Equal("77", await SeedInForce());               // environment beats appsettings.json
            Assert.Equal("5", await SeedInForce("--seed", "5"));   // command line beats both
        }
        finally
        {
            Environment.SetEnvironmentVariable("REASONER_Seed", null);
        }
    }

    [Fact]
    public async Task AMistypedSettingIsAConfigurationError()
    {
        Environment.SetEnvironmentVariable("REASONER_Seed", "many");
        try
        {
            var r = await CliRunner.Run("tasks");
            Assert.Equal(2, r.ExitCode);
            Assert.StartsWith("error: bad configuration", r.Err);
        }
        finally
        {
            Environment.SetEnvironmentVariable("REASONER_Seed", null);
        }
    }
}
