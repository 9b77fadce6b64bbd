using Reasoner.Cli;

return await ReasonerApp.RunAsync(args);
