Console.WriteLine("AgentFleet: not implemented yet");
return 0;
