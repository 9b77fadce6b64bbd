Console.WriteLine("Reasoner");
