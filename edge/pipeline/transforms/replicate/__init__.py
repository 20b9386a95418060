"""replicate transform: copies fields and adds constant fields to records."""
